// Case page keyboard: "n" focuses the note box (when not typing elsewhere); Ctrl+Enter
// (Cmd+Enter on a Mac) submits the form the focus is in; an error box takes the focus.
(function () {
  "use strict";
  function isTyping(element) {
    return element && (element.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));
  }
  // Listen at once (not after DOMContentLoaded), so a key pressed while the page is still
  // loading is not lost; the note box is looked up when needed.
  document.addEventListener("keydown", function (event) {
    var note = document.querySelector("[data-note-body]");
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
  document.addEventListener("DOMContentLoaded", function () {
    var alert = document.querySelector("[data-autofocus]");
    if (alert) { alert.focus(); }
  });
})();
