// The reviewer's rubric form (templates/review/workspace/_rubric.html): autosave.
//
// Every change is kept in this browser at once (localStorage, one key per reviewer and
// assignment: "portal-review:<user>:<assignment>") and sent a moment after typing
// pauses. Saves go one at a time, each with the next revision number; the server keeps a
// save only if it is newer than the stored review, so a slow earlier save can never
// overwrite a later one. Without a connection the changes stay in the browser and are
// sent when it is back (also after the tab was closed: they are restored on the next
// visit, unless a newer version was saved elsewhere since). The sign-out button clears
// every such key (static/js/portal.js): shared hospital computers.
// Without JavaScript the form is a plain post (save draft / submit).
(function () {
  "use strict";

  var DELAY = 800;  // ms after the last change
  var RETRY = 15000;  // ms between attempts while the connection is down

  var form = document.getElementById("review-form");
  if (!form || form.getAttribute("data-editable") !== "1") { return; }
  var box = document.getElementById("review-save-status");
  var key = form.getAttribute("data-storage-key");
  var url = form.getAttribute("data-autosave-url");
  // The newest revision known to be stored (by this page or, after a refusal, elsewhere).
  var revision = parseInt(form.getAttribute("data-revision"), 10) || 0;
  var sent = {};  // revisions this page sent
  var timer = null;
  var retryTimer = null;
  var inFlight = false;
  var dirty = false;

  function t(name) { return form.getAttribute("data-text-" + name) || ""; }

  function say(message, kind) {
    if (!box) { return; }
    box.textContent = message;
    box.setAttribute("data-kind", kind || "");
  }

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) { return ""; }
  }

  // -- the form's values ------------------------------------------------------------------

  function values() {
    var data = {};
    form.querySelectorAll("input[type=radio]").forEach(function (el) {
      if (!(el.name in data)) { data[el.name] = ""; }
      if (el.checked) { data[el.name] = el.value; }
    });
    form.querySelectorAll("textarea").forEach(function (el) { data[el.name] = el.value; });
    return data;
  }

  function apply(data) {
    Object.keys(data).forEach(function (name) {
      var value = data[name] === null || data[name] === undefined ? "" : String(data[name]);
      form.querySelectorAll("input[type=radio]").forEach(function (el) {
        if (el.name === name) { el.checked = el.value === value; }
      });
      form.querySelectorAll("textarea").forEach(function (el) {
        if (el.name === name) { el.value = value; }
      });
    });
  }

  // The stored review as the server sends it back (scores by criterion id).
  function fromStored(stored) {
    var data = {recommendation: stored.recommendation || "",
                committee_comment: stored.committee_comment || "",
                applicant_comment: stored.applicant_comment || ""};
    form.querySelectorAll("input[type=radio][name^='score-']").forEach(function (el) {
      var id = el.name.slice("score-".length);
      var value = stored.scores ? stored.scores[id] : undefined;
      data[el.name] = value === undefined || value === null ? "" : String(value);
    });
    return data;
  }

  // -- kept in the browser ----------------------------------------------------------------

  function load() {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function keep() {
    try {
      window.localStorage.setItem(key, JSON.stringify({base: revision, values: values(), at: Date.now()}));
    } catch (e) { /* private mode or full: the server copy still comes */ }
  }
  function forget() {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }

  // -- field messages ---------------------------------------------------------------------

  function showErrors(errors) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) {
      var message = errors && errors[el.getAttribute("data-error-for")];
      el.textContent = message || "";
      el.hidden = !message;
      var field = document.getElementById("field-" + el.getAttribute("data-error-for")) ||
                  document.getElementById(el.getAttribute("data-error-for"));
      if (field) {
        if (message) { field.setAttribute("aria-invalid", "true"); } else { field.removeAttribute("aria-invalid"); }
      }
    });
  }

  // -- saving -----------------------------------------------------------------------------

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(send, delay);
  }

  function offline() {
    say(t("offline"), "offline");
    if (!retryTimer) {
      retryTimer = window.setInterval(function () { if (dirty) { send(); } }, RETRY);
    }
  }

  function back() {
    if (retryTimer) { window.clearInterval(retryTimer); retryTimer = null; }
  }

  function handle(status, data, number) {
    if (status === 200) {
      back();
      revision = Math.max(revision, data.revision || number);
      showErrors({});
      if (dirty) { keep(); schedule(0); } else { forget(); }
      say(t("saved").replace("%(time)s", data.saved_at || ""), "saved");
      return;
    }
    if (status === 409 && data.stored) {
      back();
      var stored = data.stored;
      if (data.code === "stale" && sent[stored.revision]) {
        // Our own earlier save got there (its answer was lost): nothing else changed it.
        revision = Math.max(revision, stored.revision);
        if (dirty) { keep(); schedule(0); } else { forget(); say(t("saved").replace("%(time)s", ""), "saved"); }
        return;
      }
      revision = stored.revision;
      dirty = false;
      apply(fromStored(stored));
      forget();
      showErrors({});
      say(data.code === "stale" ? t("stale") : (data.error || t("stale")), "stale");
      return;
    }
    if (status === 422) {
      back();
      showErrors(data.errors || {});
      say(t("error") + " " + (data.error || ""), "error");
      return;
    }
    if (status === 404) {
      back();
      forget();
      say(t("gone"), "error");
      return;
    }
    dirty = true;
    offline();
  }

  function send() {
    if (inFlight) { return; }  // sent again when the answer is in
    if (!dirty) { return; }
    dirty = false;
    var number = revision + 1;
    sent[number] = true;
    var body = new FormData(form);
    body.set("revision", String(number));
    inFlight = true;
    say(t("saving"), "saving");
    window.fetch(url, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: {"Accept": "application/json", "X-CSRFToken": csrf()}
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401) {
        return {signedOut: true};
      }
      return response.json().then(function (data) {
        return {status: response.status, data: data};
      }, function () { return {status: response.status, data: {}}; });
    }).then(function (result) {
      inFlight = false;
      if (result.signedOut) {
        dirty = true;
        say(t("signed-out"), "error");
        return;
      }
      handle(result.status, result.data, number);
    }).catch(function () {
      inFlight = false;
      dirty = true;
      offline();
    });
  }

  function changed() {
    dirty = true;
    keep();
    schedule(DELAY);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.addEventListener("online", function () { if (dirty) { schedule(0); } });

  // The plain post (save draft / submit) carries every value: it goes as the next
  // revision after what this page has sent.
  form.addEventListener("submit", function () {
    window.clearTimeout(timer);
    var field = form.querySelector("input[name=revision]");
    if (field) { field.value = String(revision + (inFlight ? 2 : 1)); }
  });

  // Changes kept from an earlier visit (closed tab, lost connection): restored and sent,
  // unless a newer version was saved since (then the stored one wins).
  var kept = load();
  if (kept && kept.values) {
    if (kept.base >= revision) {
      apply(kept.values);
      dirty = true;
      say(t("restored"), "saving");
      schedule(300);
    } else {
      forget();
    }
  }

  // The first document is open on arrival: draw its preview (static/js/pdf-preview.js
  // draws on "toggle", which an initially open <details> may fire before it listens).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("details.review-doc[open]").forEach(function (details) {
      details.dispatchEvent(new Event("toggle"));
    });
  });
})();
