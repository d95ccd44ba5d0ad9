// Case page keyboard: "n" focuses the note box (when not typing elsewhere); Ctrl+Enter
// (Cmd+Enter on a Mac) submits the form the focus is in; an error box takes the focus.
(function () {
  "use strict";
  function isTyping(element) {
    return element && (element.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));
  }
  document.addEventListener("DOMContentLoaded", function () {
    var note = document.querySelector("[data-note-body]");
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        var form = target && target.closest ? target.closest("form") : null;
        if (form && target.tagName !== "BUTTON") {
          event.preventDefault();
          form.requestSubmit(form.querySelector("button[type=submit]") || undefined);
        }
        return;
      }
      if ((event.key === "n" || event.key === "N") && note && !isTyping(target) &&
          !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        note.focus();
        note.scrollIntoView({ block: "center" });
      }
    });
    var alert = document.querySelector("[data-autofocus]");
    if (alert) { alert.focus(); }
  });
})();
