// Document uploads with a progress bar. Files above the threshold go up in parts
// (resumable: the server keeps which parts it has, so after a broken connection the
// same file continues where it stopped, even through another server process).
// Without JavaScript the form posts the whole file and the page reloads.
(function () {
  "use strict";

  var RETRIES = 5;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) { return ""; }
  }

  function send(method, url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("HX-Request", "true");
      if (onProgress && xhr.upload) {
        xhr.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) { onProgress(e.loaded); }
        });
      }
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.ontimeout = function () { reject(new Error("network")); };
      xhr.send(body);
    });
  }

  function wait(ms) { return new Promise(function (r) { window.setTimeout(r, ms); }); }

  // Retry network failures with growing pauses: phones drop connections for seconds.
  function sendWithRetry(method, url, body, onProgress) {
    var attempt = 0;
    function go() {
      return send(method, url, body, onProgress).then(function (xhr) {
        if (xhr.status >= 500 && attempt < RETRIES) {
          attempt += 1;
          return wait(1000 * Math.pow(2, attempt)).then(go);
        }
        return xhr;
      }, function (err) {
        if (attempt >= RETRIES) { throw err; }
        attempt += 1;
        return wait(1000 * Math.pow(2, attempt)).then(go);
      });
    }
    return go();
  }

  function replaceRow(form, html) {
    var row = form.closest(".doc-row");
    if (!row || !html) { return; }
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.firstElementChild;
    if (!fresh) { return; }
    row.replaceWith(fresh);
    if (window.htmx) { window.htmx.process(fresh); }
    settled(fresh);
    document.body.dispatchEvent(new CustomEvent("nomination-changed", { bubbles: true }));
  }

  // A replaced row takes the focus with it: put it on the new row's heading, so keyboard
  // and screen reader users stay where they were, and announce what happened (errors
  // announce themselves with role=alert).
  function settled(row) {
    var heading = row.querySelector("h3[tabindex]");
    if (heading) { heading.focus(); }
    var notice = row.getAttribute("data-notice");
    var announcer = document.getElementById("doc-announcer");
    if (notice && announcer) { announcer.textContent = notice; }
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var row = event.detail && event.detail.elt;
    if (row && row.classList && row.classList.contains("doc-row")) { settled(row); }
  });

  function ui(form) {
    var bar = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    var button = form.querySelector("button[type=submit]");
    return {
      start: function () { bar.hidden = false; bar.value = 0; button.disabled = true; status.textContent = form.dataset.uploading; },
      progress: function (fraction) { bar.value = Math.round(fraction * 100); },
      checking: function () { bar.value = 100; status.textContent = form.dataset.checking; },
      fail: function (text) { bar.hidden = true; button.disabled = false; status.textContent = text; status.classList.add("field-error"); }
    };
  }

  function dateFields(form, data) {
    ["expires_on", "issued_on"].forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]");
      if (input) { data.append(name, input.value); }
    });
  }

  function errorText(xhr, fallback) {
    try { return JSON.parse(xhr.responseText).error || fallback; } catch (e) { return fallback; }
  }

  function whole(form, file, view) {
    var data = new FormData(form);
    return sendWithRetry("POST", form.action, data, function (loaded) {
      view.progress(loaded / Math.max(file.size, 1));
      if (loaded >= file.size) { view.checking(); }
    }).then(function (xhr) {
      // The row comes back with the message beside the file: refused (422) or too large (413).
      if (xhr.status === 200 || xhr.status === 422 || xhr.status === 413) { replaceRow(form, xhr.responseText); }
      else { view.fail(errorText(xhr, document.body.dataset.errorText)); }
    });
  }

  function chunked(form, file, view) {
    var start = new FormData();
    start.append("filename", file.name);
    start.append("size", String(file.size));
    start.append("fingerprint", [file.name, file.size, file.lastModified].join(":"));
    dateFields(form, start);
    return sendWithRetry("POST", form.dataset.chunkUrl, start).then(function (xhr) {
      if (xhr.status !== 200 && xhr.status !== 201) {
        throw new Error(errorText(xhr, document.body.dataset.errorText));
      }
      var state = JSON.parse(xhr.responseText);
      var have = {};
      state.parts.forEach(function (n) { have[n] = true; });
      var done = 0;
      state.parts.forEach(function (n) {
        done += Math.min(state.part_size, file.size - (n - 1) * state.part_size);
      });
      view.progress(done / file.size);
      var numbers = [];
      for (var n = 1; n <= state.part_count; n += 1) { if (!have[n]) { numbers.push(n); } }
      // One part after the other: a slow line gains nothing from parallel parts.
      return numbers.reduce(function (chain, number) {
        return chain.then(function () {
          var from = (number - 1) * state.part_size;
          var blob = file.slice(from, Math.min(from + state.part_size, file.size));
          return sendWithRetry("PUT", state.part_url + number, blob, function (loaded) {
            view.progress((done + loaded) / file.size);
          }).then(function (partXhr) {
            if (partXhr.status !== 200) { throw new Error(errorText(partXhr, form.dataset.paused)); }
            done += blob.size;
          });
        });
      }, Promise.resolve()).then(function () {
        view.checking();
        var finish = new FormData();
        dateFields(form, finish);
        return sendWithRetry("POST", state.complete_url, finish);
      }).then(function (doneXhr) {
        if ([200, 410, 413, 422].indexOf(doneXhr.status) >= 0) {
          replaceRow(form, doneXhr.responseText);
        } else {
          view.fail(errorText(doneXhr, document.body.dataset.errorText));
        }
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("upload-form")) { return; }
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    if (!file || !window.FormData || !window.Promise) { return; }  // let the browser post it
    event.preventDefault();
    var view = ui(form);
    if (file.size > Number(form.dataset.maxBytes)) {
      view.fail(form.dataset.tooLarge);
      return;
    }
    view.start();
    var job = file.size > Number(form.dataset.chunkThreshold) ? chunked(form, file, view) : whole(form, file, view);
    job.catch(function (err) {
      view.fail(err && err.message && err.message !== "network" ? err.message : form.dataset.paused);
    });
  });
})();
