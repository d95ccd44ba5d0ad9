// The screen pop: every page of an operator asks which call they are on, every 0.6 s while
// they are available (a call can come at any moment), every 3 s otherwise (on a call, in
// after-call work, away). When the PBX says they answered a new one, the intake opens on its
// caller, unless the operator is typing into a form (then a banner offers it, Alt+C opens
// it). Nothing is popped twice.
(function () {
  "use strict";
  var root = document.querySelector("[data-call-pop]");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-call-pop");
  var seenKey = "presidio-popped-call";
  var dirty = false;
  var delay = 3000;
  document.addEventListener("input", function (event) {
    if (event.target && event.target.form) { dirty = true; }
  });
  function offer(intakeUrl) {
    root.hidden = false;
    var link = root.querySelector("a");
    link.setAttribute("href", intakeUrl);
    document.addEventListener("keydown", function (event) {
      if (event.altKey && (event.key === "c" || event.key === "C")) {
        event.preventDefault();
        window.location.assign(intakeUrl);
      }
    });
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "X-Presidio-Poll": "1" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        delay = body && body.presence === "available" ? 600 : 3000;
        if (!body || !body.call) { root.hidden = true; return; }
        if (window.sessionStorage.getItem(seenKey) === body.call) { return; }
        window.sessionStorage.setItem(seenKey, body.call);
        if (dirty) { offer(body.intake_url); } else { window.location.assign(body.intake_url); }
      })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, 300);
})();
