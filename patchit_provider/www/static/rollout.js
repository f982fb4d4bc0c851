// The rollout page's progress view: polls the page's JSON twin while the rollout is not final
// and updates the figures in place; reloads once when the state changes (forms, records).
// A static file: the pages' CSP allows no inline script.
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section || section.dataset.final === "true") { return; }
  var url = section.dataset.poll;
  var seconds = Math.max(2, parseInt(section.dataset.seconds, 10) || 5);
  var rendered = section.dataset.state;

  function set(field, value) {
    var nodes = document.querySelectorAll('[data-field="' + field + '"]');
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = String(value); }
  }

  function apply(data) {
    var p = data.progress;
    if (p.state !== rendered) { window.location.reload(); return false; }
    ["finished", "total", "succeeded", "failed", "in_flight", "failures", "reason"].forEach(function (k) { set(k, p[k]); });
    var bar = document.getElementById("progress-bar");
    if (bar) { bar.setAttribute("width", String(p.percent)); }
    p.waves.forEach(function (w) {
      var cell = document.querySelector('[data-wave-status="' + w.index + '"]');
      if (cell) { cell.textContent = w.status + " " + w.finished + "/" + w.total + (w.gate ? " \u00b7 gate " + w.gate : ""); }
    });
    var cells = document.querySelectorAll("[data-member]");
    for (var i = 0; i < cells.length; i++) {
      var result = p.members[cells[i].dataset.member];
      if (result) { cells[i].textContent = result; }
    }
    section.dataset.updated = new Date().toISOString();
    return !p.final;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) { if (apply(data)) { window.setTimeout(poll, seconds * 1000); } })
      .catch(function () { window.setTimeout(poll, seconds * 2000); });
  }
  window.setTimeout(poll, seconds * 1000);
})();
