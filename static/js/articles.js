// Suggested articles (intake and case page). The panel asks for suggestions (htmx, POST) when
// the subject, description, note or category changes, 300 ms after the last key. Alt+1..5
// opens the n-th suggestion, Alt+Shift+1..5 inserts its title and address into the note box
// (the description at intake); either is recorded on the case (or on the intake's case).
(function () {
  "use strict";
  var SOURCES = "#id_subject, #id_description, #id_category, [data-note-body]";
  var timer = null;
  var opened = null; // the article opened last: it stays open when the list is refreshed

  function panel() { return document.getElementById("article-suggestions"); }

  function ensureHtmx(box, ready) {
    if (window.htmx) { ready(); return; }
    var script = document.createElement("script");
    script.src = box.dataset.htmxSrc;
    script.onload = function () { window.htmx.process(box); ready(); };
    document.head.appendChild(script);
  }

  function ask() {
    var box = panel();
    if (box && window.htmx) { window.htmx.trigger(box, "suggest"); }
  }

  function record(item, kind) {
    var box = panel();
    var list = item.closest("[data-category]");
    var body = new FormData();
    body.append("csrfmiddlewaretoken", box.dataset.csrf);
    body.append("article", item.dataset.article);
    body.append("kind", kind);
    body.append("contract", box.dataset.contract);
    body.append("case", box.dataset["case"] || "");
    body.append("category", list ? list.dataset.category : "");
    return fetch(box.dataset.useUrl, { method: "POST", body: body, credentials: "same-origin" });
  }

  function noteBox() {
    return document.querySelector("[data-note-body]") ||
      document.getElementById("id_description");
  }

  function open(item) {
    var details = item.querySelector("[data-suggestion-details]");
    opened = item.dataset.article;
    if (!details.open) { details.open = true; }
    details.querySelector("summary").focus();
    record(item, "opened");
  }

  function insert(item) {
    var box = noteBox();
    if (!box) { return; }
    var text = item.dataset.insert;
    box.value = box.value ? box.value.replace(/\s*$/, "") + "\n" + text : text;
    box.focus();
    record(item, "inserted");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = panel();
    if (!box) { return; }
    ensureHtmx(box, function () {});
    document.addEventListener("input", function (event) {
      if (event.target.matches && event.target.matches(SOURCES)) {
        clearTimeout(timer);
        timer = setTimeout(ask, 300);
      }
    });
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("#id_category")) { ask(); }
    });
    box.addEventListener("htmx:afterSwap", function () {
      var again = opened && box.querySelector('[data-article="' + opened + '"] details');
      if (again) { again.dataset.seen = "1"; again.open = true; }
    });
    box.addEventListener("click", function (event) {
      var button = event.target.closest("[data-suggestion-insert]");
      if (button) { insert(button.closest("[data-suggestion]")); }
    });
    box.addEventListener("toggle", function (event) {
      var details = event.target;
      if (details.open && details.matches("[data-suggestion-details]") && !details.dataset.seen) {
        details.dataset.seen = "1";
        if (!details.dataset.byKey) {
          opened = details.closest("[data-suggestion]").dataset.article;
          record(details.closest("[data-suggestion]"), "opened");
        }
      }
    }, true);
    document.addEventListener("keydown", function (event) {
      if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
      var match = /^Digit([1-5])$/.exec(event.code || "");
      if (!match) { return; }
      var item = box.querySelector('[data-suggestion="' + match[1] + '"]');
      if (!item) { return; }
      event.preventDefault();
      if (event.shiftKey) { insert(item); return; }
      var details = item.querySelector("[data-suggestion-details]");
      details.dataset.byKey = "1";
      details.dataset.seen = "1";
      open(item);
    });
  });
})();
