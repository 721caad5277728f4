// Autosave of the candidate details (templates/nominations/_section.html): htmx sends a
// section when a field changes and puts the server's answer (errors, "Saved") in its place.
// On a slow line the person goes on typing meanwhile; the answer holds the values as they
// were sent, and htmx ignores a change made while the save is under way. Without this,
// what was typed during a save vanished from the screen and was never saved.
(function () {
  "use strict";

  var sent = new WeakMap();  // form -> {field id: value as sent}
  var kept = {};             // form id -> fields typed in during the save
  var dirty = {};            // form id -> changed, not sent yet (htmx waits 300 ms)

  function isSection(el) {
    return !!(el && el.classList && el.classList.contains("nomination-section"));
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.id && el.name && el.type !== "hidden" && el.type !== "submit";
    });
  }

  function valueOf(el) { return el.type === "checkbox" ? String(el.checked) : el.value; }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (isSection(form)) { dirty[form.id] = true; }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.target;
    if (!isSection(form)) { return; }
    delete dirty[form.id];
    var values = {};
    fields(form).forEach(function (el) { values[el.id] = valueOf(el); });
    sent.set(form, values);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.target;
    if (!isSection(form) || !sent.has(form)) { return; }
    var values = sent.get(form);
    var changed = fields(form).filter(function (el) { return values[el.id] !== valueOf(el); });
    if (!changed.length) { return; }
    kept[form.id] = {
      old: form,
      fields: changed.map(function (el) {
        var info = { id: el.id, value: el.value, checked: el.checked,
                     focused: el === document.activeElement };
        try { info.start = el.selectionStart; info.end = el.selectionEnd; } catch (e) { /* no caret */ }
        return info;
      })
    };
  });

  document.addEventListener("htmx:afterSettle", function () {
    Object.keys(kept).forEach(function (formId) {
      var form = document.getElementById(formId);
      if (!form || form === kept[formId].old) { return; }  // not swapped yet
      var unsaved = false;
      kept[formId].fields.forEach(function (info) {
        var el = document.getElementById(info.id);
        if (!el || !form.contains(el)) { return; }
        if (el.type === "checkbox") { el.checked = info.checked; } else { el.value = info.value; }
        if (info.focused && el.tagName !== "SELECT" && el.type !== "checkbox") {
          // Still being typed in: saved when it is left. The browser sends no change
          // event for a value set by script, so send one then.
          try { el.setSelectionRange(info.start, info.end); } catch (e) { /* no caret */ }
          el.addEventListener("blur", function () {
            if (el.value !== el.defaultValue) { el.dispatchEvent(new Event("change", { bubbles: true })); }
          }, { once: true });
        } else {
          unsaved = true;  // its change came while the save was under way: send it now
        }
      });
      delete kept[formId];
      if (unsaved) { form.dispatchEvent(new Event("change", { bubbles: true })); }
    });
  });

  // Leaving the page (the "Next" link right after the last field, closing the tab) must
  // not lose the change that htmx would have sent 300 ms later: send it now, in a request
  // the browser completes even after the page is gone.
  function flush() {
    Object.keys(dirty).forEach(function (formId) {
      var form = document.getElementById(formId);
      delete dirty[formId];
      if (!form || !window.fetch) { return; }
      window.fetch(form.action, { method: "POST", body: new FormData(form), keepalive: true,
                                  credentials: "same-origin", headers: { "HX-Request": "true" } })
        .catch(function () { /* offline: nothing more can be done on the way out */ });
    });
  }
  window.addEventListener("beforeunload", flush);
  window.addEventListener("pagehide", flush);
})();
