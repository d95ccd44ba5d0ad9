// Intake: the category sets its default priority and its documentation template;
// Ctrl+Enter submits from the description; Alt+L starts a new search.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var category = document.querySelector("[data-intake-category]");
    var priority = document.getElementById("id_priority");
    var description = document.getElementById("id_description");
    var form = document.getElementById("intake-form");
    var lastTemplate = category ? category.selectedOptions[0].dataset.template : "";

    if (category && priority && description) {
      category.addEventListener("change", function () {
        var option = category.selectedOptions[0];
        priority.value = option.dataset.priority;
        var untouched = description.value.trim() === "" ||
          description.value.trim() === (lastTemplate || "").trim();
        if (untouched) {
          description.value = option.dataset.template || "";
        }
        lastTemplate = option.dataset.template || "";
      });
    }
    if (form && description) {
      description.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          form.requestSubmit(form.querySelector("[data-intake-submit]"));
        }
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
