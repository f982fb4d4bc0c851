// Follow Airflow's light / dark colour mode (a file, not inline: the pages' CSP allows no inline script).
// Airflow 3's UI (next-themes) puts the class "light" or "dark" on its <html> and keeps the
// choice in localStorage "theme" ("light", "dark" or "system"); older UIs used Chakra's
// "chakra-ui-color-mode". Inside the UI's iframe (same origin) the parent's class is the truth
// and is watched, so a switch in Airflow repaints PATCHIT at once; alone, the stored choice,
// then the system's preference (prefers-color-scheme). The result is <html data-theme="...">.
(function () {
  "use strict";
  var root = document.documentElement;
  var system = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function host() {
    try {
      return window.parent !== window ? window.parent.document.documentElement : null;
    } catch (e) {
      return null; // framed by another origin: nothing to read
    }
  }
  function fromHost() {
    var el = host();
    if (el && el.classList.contains("dark")) return "dark";
    if (el && el.classList.contains("light")) return "light";
    return null;
  }
  function fromStorage() {
    try {
      var mode = localStorage.getItem("theme") || localStorage.getItem("chakra-ui-color-mode");
      return mode === "dark" || mode === "light" ? mode : null;
    } catch (e) {
      return null;
    }
  }
  function apply() {
    var mode = fromHost() || fromStorage() || (system && system.matches ? "dark" : "light");
    if (root.getAttribute("data-theme") !== mode) root.setAttribute("data-theme", mode);
  }

  apply();
  window.addEventListener("storage", apply);
  if (system && system.addEventListener) system.addEventListener("change", apply);
  var el = host();
  if (el && window.MutationObserver) {
    new MutationObserver(apply).observe(el, { attributes: true, attributeFilter: ["class"] });
  }
})();
