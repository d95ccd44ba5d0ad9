// Routing pages: "n" takes the next case on the workspace (when not typing); the first
// error box takes the focus; a live region whose session expired reloads the page (to the
// login form) instead of showing the login form inside the region.
(function () {
  "use strict";
  function isTyping(element) {
    return element && (element.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));
  }
  var submitted = false;
  // Listen at once, so a key pressed while the page is still loading is not lost.
  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("[data-next-case-form]");
    if (!form || submitted || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if ((event.key === "n" || event.key === "N") && !isTyping(event.target)) {
      event.preventDefault();
      submitted = true;
      form.requestSubmit();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.hasAttribute && form.hasAttribute("data-next-case-form")) {
      submitted = true;
      var button = form.querySelector("button[type=submit]");
      if (button) { button.setAttribute("aria-busy", "true"); }
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/accounts/login/") !== -1) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });
  // Back from the case page (page restored from the cache): the shortcut works again.
  window.addEventListener("pageshow", function () {
    submitted = false;
    var button = document.querySelector("[data-next-case-form] button[aria-busy]");
    if (button) { button.removeAttribute("aria-busy"); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var alert = document.querySelector("[data-autofocus]");
    if (alert && !document.querySelector("[data-autofocus]:focus")) { alert.focus(); }
  });
})();
