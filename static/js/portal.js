// The portal's own script: small on purpose. No inline script anywhere (CSP).
(function () {
  "use strict";

  // Remember the browser's time zone so times can be shown in it before a profile says.
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("portal_tz=") === -1) {
      document.cookie = "portal_tz=" + encodeURIComponent(tz) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* old browser: the server's default zone is used */ }

  // Buttons that ask before doing something that cannot be undone.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Signing out (the form in base.html marked data-clear-drafts) forgets every review
  // draft kept in this browser (static/js/review.js): hospital computers are shared.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented || !event.target.hasAttribute("data-clear-drafts")) { return; }
    try {
      for (var i = window.localStorage.length - 1; i >= 0; i -= 1) {
        var name = window.localStorage.key(i);
        if (name && name.indexOf("portal-review:") === 0) { window.localStorage.removeItem(name); }
      }
    } catch (e) { /* storage unavailable: nothing was kept */ }
  });

  // Disable a form's submit buttons once it is sent: a double click submits once.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) { return; }
    var form = event.target;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get") || form.hasAttribute("data-keep-enabled")) { return; }
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // htmx error responses (500, 403...) would otherwise fail silently.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("flashes");
    if (!box) { return; }
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = document.body.getAttribute("data-error-text") || "Something went wrong. Please try again.";
    box.replaceChildren(p);
  });
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("flashes");
    if (!box) { return; }
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = document.body.getAttribute("data-offline-text") || "No connection. Please try again.";
    box.replaceChildren(p);
  });

  // Deadline countdowns (templates/nominations/_countdown.html): the server writes the
  // text as of the page load, in the reader's language; this keeps it current while the
  // page stays open, with the same patterns. Not announced: it changes every minute.
  function fill(pattern, values) {
    return pattern.replace(/%\((\w+)\)d/g, function (all, name) {
      return name in values ? String(values[name]) : all;
    });
  }
  function updateCountdowns() {
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("data-deadline")) - Date.now()) / 1000);
      if (isNaN(left)) { return; }
      var text;
      if (left <= 0) {
        text = el.getAttribute("data-passed");
      } else {
        var days = Math.floor(left / 86400);
        var values = {days: days, hours: Math.floor((left % 86400) / 3600),
                      minutes: Math.floor((left % 3600) / 60)};
        text = fill(el.getAttribute(days ? "data-days" : "data-hours"), values);
      }
      if (text && el.textContent !== text) { el.textContent = text; }
    });
  }
  document.addEventListener("DOMContentLoaded", updateCountdowns);
  document.addEventListener("htmx:afterSettle", updateCountdowns);
  window.setInterval(updateCountdowns, 20000);
})();
