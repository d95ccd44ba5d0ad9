/* The main menu on a narrow screen: folded behind one "Menu" button (the stylesheet shows
   the button only there). Without this script the menu simply wraps, always visible. */
(function () {
  "use strict";
  document.documentElement.classList.add("nav-foldable");
  document.addEventListener("DOMContentLoaded", function () {
    const toggle = document.querySelector(".nav-toggle");
    const nav = document.querySelector(".mainnav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        toggle.setAttribute("aria-expanded", "false");
        nav.classList.remove("open");
        toggle.focus();
      }
    });
  });
})();
