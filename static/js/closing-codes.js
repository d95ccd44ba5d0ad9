// The resolve form's closing codes: typing in the search box narrows the select to the
// codes whose name or code contains the words typed (accents ignored) and picks the first;
// the select itself stays a native, keyboard-friendly control.
(function () {
  "use strict";
  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var filter = document.querySelector("[data-closing-code-filter]");
    var select = document.querySelector("select[data-closing-codes]");
    if (!filter || !select) return;
    filter.addEventListener("input", function () {
      var words = fold(filter.value).split(/\s+/).filter(Boolean);
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) return;
        var text = fold(option.textContent + " " + option.value);
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !match;
        option.disabled = !match;
        if (match && first === null) first = option;
      });
      if (first && (select.selectedIndex < 1 || select.options[select.selectedIndex].hidden)) {
        select.value = first.value;
      }
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); select.focus(); }
    });
  });
})();
