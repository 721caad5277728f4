// PDF previews on the staff nomination page (templates/intake/detail.html).
// The preview route answers with `Content-Security-Policy: sandbox`, and Chromium does not
// show its PDF viewer inside a sandboxed document: the iframe said "blocked". Instead the
// bytes are fetched (same origin; the response's own CSP does not matter to fetch) and
// drawn with pdf.js (static/vendor/pdf.min.mjs, from `make assets`) into canvases:
// the first pages when the <details> is opened, more on "Show more pages".
// No eval (isEvalSupported: false): the page CSP has no 'unsafe-eval'.
(function () {
  "use strict";

  var STEP = 3;  // pages drawn at once

  function say(box, text) {
    var status = box.querySelector(".pdf-preview-status");
    if (status) { status.textContent = text; }
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function drawPage(pdf, number, box, pages) {
    return pdf.getPage(number).then(function (page) {
      var width = pages.clientWidth || 800;
      var base = page.getViewport({scale: 1});
      var scale = Math.min(width / base.width, 2);
      var ratio = window.devicePixelRatio || 1;
      var viewport = page.getViewport({scale: scale * ratio});
      var canvas = document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.style.width = Math.floor(viewport.width / ratio) + "px";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", fill(box.dataset.pageLabel || "Page %(n)s of %(total)s",
                                             {n: number, total: pdf.numPages}));
      pages.appendChild(canvas);
      return page.render({canvasContext: canvas.getContext("2d"), viewport: viewport}).promise;
    });
  }

  function drawMore(pdf, box, state) {
    var pages = box.querySelector(".pdf-preview-pages");
    var more = box.querySelector(".pdf-preview-more");
    var last = Math.min(state.drawn + STEP, pdf.numPages);
    var chain = Promise.resolve();
    if (more) { more.hidden = true; }
    for (var n = state.drawn + 1; n <= last; n += 1) {
      chain = chain.then(drawPage.bind(null, pdf, n, box, pages));
    }
    return chain.then(function () {
      state.drawn = last;
      say(box, fill(box.dataset.shownLabel || "%(shown)s of %(total)s pages shown.",
                    {shown: last, total: pdf.numPages}));
      if (more && last < pdf.numPages) { more.hidden = false; }
      box.dataset.state = "shown";
    });
  }

  function failed(box, error) {
    box.dataset.state = "failed";
    say(box, box.dataset.failedLabel || "The preview could not be shown. Download the file instead.");
    if (window.console && console.warn) { console.warn("PDF preview:", error); }
  }

  function start(box) {
    if (box.dataset.state) { return; }
    box.dataset.state = "loading";
    var lib = window.pdfjsLib;
    if (!lib) { failed(box, "pdf.js is not loaded"); return; }
    lib.GlobalWorkerOptions.workerSrc = box.dataset.workerSrc;
    say(box, box.dataset.loadingLabel || "Loading the preview…");
    fetch(box.dataset.pdfSrc, {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.arrayBuffer();
      })
      .then(function (bytes) {
        return lib.getDocument({data: new Uint8Array(bytes), isEvalSupported: false}).promise;
      })
      .then(function (pdf) {
        var state = {drawn: 0};
        var more = box.querySelector(".pdf-preview-more");
        if (more) {
          more.addEventListener("click", function () {
            drawMore(pdf, box, state).catch(failed.bind(null, box));
          });
        }
        return drawMore(pdf, box, state);
      })
      .catch(failed.bind(null, box));
  }

  // Drawn when the preview is opened, not when the page loads (a dossier has many files).
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.open || !details.querySelector) { return; }
    var box = details.querySelector(".pdf-preview");
    if (box) { start(box); }
  }, true);
})();
