// Check-in at the door: the phone camera reads pass QR codes with jsQR (static/vendor/jsQR.js,
// copied from npm by `make assets`); the typed code form works without any of this.
(function () {
  "use strict";

  var root = document.querySelector("[data-scanner]");
  var form = document.querySelector("[data-checkin-form]");
  if (!root || !form) { return; }
  var input = form.querySelector("input[name=code]");
  var video = root.querySelector("[data-scan-video]");
  var canvas = root.querySelector("[data-scan-canvas]");
  var status = root.querySelector("[data-scan-status]");
  var start = root.querySelector("[data-scan-start]");
  var stop = root.querySelector("[data-scan-stop]");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  var lastCode = "";
  var lastAt = 0;
  var REPEAT_MS = 4000; // the same pass held in front of the camera is sent once

  function say(key) { status.textContent = status.getAttribute(key) || ""; }

  function send(code) {
    input.value = code;
    if (window.htmx) {
      window.htmx.trigger(form, "submit");
    } else if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function tick() {
    if (!stream) { return; }
    if (video.readyState === video.HAVE_ENOUGH_DATA && typeof window.jsQR === "function") {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      var now = Date.now();
      if (found && found.data && (found.data !== lastCode || now - lastAt > REPEAT_MS)) {
        lastCode = found.data;
        lastAt = now;
        send(found.data);
      }
    }
    window.requestAnimationFrame(tick);
  }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
    status.textContent = "";
  }

  start.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("data-no-camera");
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        start.hidden = true;
        stop.hidden = false;
        say("data-looking");
        return video.play();
      })
      .then(function () { window.requestAnimationFrame(tick); })
      .catch(function () { stopCamera(); say("data-denied"); });
  });
  stop.addEventListener("click", stopCamera);
  window.addEventListener("pagehide", stopCamera);

  // After each answer: empty the field for the next person and keep the focus there.
  form.addEventListener("htmx:afterRequest", function () {
    input.value = "";
    if (!stream) { input.focus(); }
  });
})();
