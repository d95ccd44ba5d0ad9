// Saved replies on the case page (templates/care/partials/saved_replies.html).
// In the note box (which is also the e-mail reply: "customer" visibility), Alt+R, or "/"
// typed at the start of an empty note, opens a search over the replies available for this
// case (GET /api/v1/replies/?case=…, rendered by the server for this case and this user).
// Arrow keys choose, Enter inserts the text at the cursor, Esc closes; the focus goes back
// to the box. The texts are put in with textContent / the textarea's value: never as HTML.
(function () {
  "use strict";
  var replies = null; // fetched once per page
  var target = null; // the textarea the reply goes into
  var caret = 0;
  var shown = [];
  var active = 0;

  function dialog() { return document.querySelector("[data-saved-replies]"); }
  function isTarget(element) {
    return element && element.tagName === "TEXTAREA" &&
      (element.hasAttribute("data-note-body") || element.hasAttribute("data-reply-target"));
  }
  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function draw(box) {
    var list = box.querySelector("[data-role=list]");
    var query = fold(box.querySelector("[data-role=search]").value);
    shown = (replies || []).filter(function (reply) {
      return !query || fold(reply.title + " " + reply.text).indexOf(query) !== -1;
    });
    active = Math.min(active, Math.max(shown.length - 1, 0));
    list.textContent = "";
    shown.forEach(function (reply, index) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.id = "saved-reply-" + reply.id;
      item.setAttribute("aria-selected", index === active ? "true" : "false");
      var title = document.createElement("strong");
      title.textContent = reply.title;
      var text = document.createElement("span");
      text.className = "muted";
      text.textContent = " " + reply.text.slice(0, 140);
      item.appendChild(title);
      item.appendChild(text);
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();
        insert(box, reply);
      });
      list.appendChild(item);
    });
    var search = box.querySelector("[data-role=search]");
    if (shown.length) search.setAttribute("aria-activedescendant", "saved-reply-" + shown[active].id);
    else search.removeAttribute("aria-activedescendant");
    box.querySelector("[data-role=empty]").hidden = shown.length > 0;
  }

  function insert(box, reply) {
    box.close();
    if (!target) return;
    target.focus();
    target.setSelectionRange(caret, caret);
    target.setRangeText(reply.text, caret, caret, "end");
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function open(textarea) {
    var box = dialog();
    if (!box || box.open) return;
    target = textarea;
    caret = textarea.selectionStart || 0;
    var search = box.querySelector("[data-role=search]");
    search.value = "";
    active = 0;
    box.showModal();
    search.focus();
    if (replies !== null) { draw(box); return; }
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (rows) { replies = rows; draw(box); })
      .catch(function () { replies = []; draw(box); });
  }

  document.addEventListener("keydown", function (event) {
    var element = event.target;
    if (!isTarget(element)) return;
    var altR = event.altKey && !event.ctrlKey && !event.metaKey &&
      (event.code === "KeyR" || event.key === "r" || event.key === "R");
    var slash = event.key === "/" && !event.altKey && !event.ctrlKey && !event.metaKey &&
      element.value.trim() === "";
    if (altR || slash) {
      event.preventDefault();
      open(element);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var box = dialog();
    if (!box) return;
    var search = box.querySelector("[data-role=search]");
    search.addEventListener("input", function () { active = 0; draw(box); });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!shown.length) return;
        active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        draw(box);
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (shown[active]) insert(box, shown[active]);
      }
    });
    box.addEventListener("close", function () { if (target) target.focus(); });
  });
})();
