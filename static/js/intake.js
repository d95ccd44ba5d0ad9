// Intake, keyboard first. The category sets its default priority, the subject (its name, while
// the operator has not written another) and its documentation template. Enter on the category
// goes to the description with the first blank of the template selected, so typing fills it in
// place; in the description, Enter or Tab at a template line goes to the next blank ("…" or a
// "sì/no" to answer), Ctrl+Enter saves. Enter in any other field saves. Alt+L: a new search.
(function () {
  "use strict";
  var BLANK = /…|sì\/no|yes\/no/;

  function nextBlank(text, from) {
    var match = BLANK.exec(text.slice(from));
    return match ? { start: from + match.index, end: from + match.index + match[0].length } : null;
  }

  function selectBlank(field, from) {
    var blank = nextBlank(field.value, from);
    if (!blank) { return false; }
    field.focus();
    field.setSelectionRange(blank.start, blank.end);
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var category = document.querySelector("[data-intake-category]");
    var priority = document.getElementById("id_priority");
    var subject = document.getElementById("id_subject");
    var description = document.getElementById("id_description");
    var form = document.getElementById("intake-form");
    var chosen = category ? category.selectedOptions[0] : null;
    var lastTemplate = chosen ? chosen.dataset.template || "" : "";
    var lastName = chosen ? chosen.textContent.trim() : "";

    function save() {
      form.requestSubmit(form.querySelector("[data-intake-submit]"));
    }

    if (category && priority && description) {
      category.addEventListener("change", function () {
        var option = category.selectedOptions[0];
        priority.value = option.dataset.priority;
        var untouched = description.value.trim() === "" ||
          description.value.trim() === lastTemplate.trim();
        if (untouched) {
          description.value = option.dataset.template || "";
        }
        if (subject && (subject.value.trim() === "" || subject.value.trim() === lastName)) {
          subject.value = option.textContent.trim();
        }
        lastTemplate = option.dataset.template || "";
        lastName = option.textContent.trim();
      });
      category.addEventListener("keydown", function (event) {
        if (event.key !== "Enter" || event.ctrlKey || event.metaKey || event.altKey) { return; }
        event.preventDefault();
        if (!selectBlank(description, 0)) {
          description.focus();
          description.setSelectionRange(description.value.length, description.value.length);
        }
      });
    }
    if (form && description) {
      description.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          save();
          return;
        }
        var plain = !event.ctrlKey && !event.metaKey && !event.altKey && !event.shiftKey;
        if (plain && (event.key === "Enter" || event.key === "Tab")) {
          // Past the end of the current line: the next blank, if the template has one.
          var lineEnd = description.value.indexOf("\n", description.selectionEnd);
          if (lineEnd !== -1 && selectBlank(description, lineEnd)) {
            event.preventDefault();
          }
        }
      });
      form.addEventListener("keydown", function (event) {
        var target = event.target;
        if (event.key !== "Enter" || event.ctrlKey || event.metaKey || event.altKey ||
            target === description || target === category ||
            target.tagName === "TEXTAREA" || target.tagName === "BUTTON" ||
            target.tagName === "SUMMARY" || target.tagName === "A") {
          return;
        }
        event.preventDefault();
        save();
      });
    }
    document.addEventListener("keydown", function (event) {
      if (event.altKey && (event.key === "l" || event.key === "L")) {
        var restart = document.getElementById("intake-restart");
        var search = document.querySelector("#intake-lookup input[name=query]");
        event.preventDefault();
        if (search) { search.focus(); } else if (restart) { restart.requestSubmit(); }
      }
    });
    var alert = document.querySelector("[data-autofocus]");
    if (alert) { alert.focus(); }
  });
})();
