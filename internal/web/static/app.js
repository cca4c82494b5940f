// sfsync admin: small progressive enhancements. Every page works without
// this file; it only (1) shows the first sync's progress live,
// (2) refreshes a condition's operator list when its field changes and
// (3) marks a slow action's button busy while its form is sent.
(function () {
  "use strict";

  function show(box, p) {
    var bar = box.querySelector("progress");
    var set = function (id, v) { var el = document.getElementById(id); if (el) el.textContent = v; };
    if (bar) bar.value = Math.round(p.percent);
    set("sync-pct", Math.round(p.percent));
    set("sync-status", p.label);
    set("sync-processed", p.processed);
    set("sync-total", p.total);
    set("sync-pace", p.pace || "");
    if (p.done) {
      var fin = document.getElementById("sync-finished");
      if (fin) fin.hidden = false;
      // Reload once so the page shows the final counts from the server.
      setTimeout(function () { window.location.reload(); }, 800);
    }
  }

  function poll(box) {
    var url = box.getAttribute("data-progress-json");
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (p) { if (p.found) show(box, p); if (!p.done) setTimeout(tick, 1000); })
        .catch(function () { setTimeout(tick, 3000); });
    };
    tick();
  }

  function live(box) {
    if (!window.EventSource) { poll(box); return; }
    var es = new EventSource(box.getAttribute("data-progress"));
    es.addEventListener("progress", function (ev) {
      var p = JSON.parse(ev.data);
      if (p.found) show(box, p);
      if (p.done) es.close();
    });
    es.addEventListener("error", function () { es.close(); poll(box); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
    // After a post with errors, take keyboard and screen-reader users to the summary.
    var summary = document.getElementById("errors");
    if (summary) summary.focus();
    var boxes = document.querySelectorAll("[data-progress]");
    for (var i = 0; i < boxes.length; i++) live(boxes[i]);

    // A conflict rule only matters for two-way rows: hide it otherwise.
    var dirs = document.querySelectorAll('select[name$=".direction"]');
    for (var d = 0; d < dirs.length; d++) {
      (function (sel) {
        var name = sel.name.replace(/\.direction$/, ".conflict");
        var conflict = sel.form && sel.form.querySelector('[name="' + name + '"]');
        var box = conflict && conflict.closest(".field");
        if (!box) return;
        var sync = function () { box.hidden = sel.value !== "both"; };
        sel.addEventListener("change", sync);
        sync();
      })(dirs[d]);
    }

    // Slow actions (dry run, save, start and manual syncs) say they are
    // working, and a second click does not post the form again.
    var forms = document.querySelectorAll("form");
    for (var f = 0; f < forms.length; f++) {
      forms[f].addEventListener("submit", function (ev) {
        var form = ev.target, btn = ev.submitter;
        if (form.getAttribute("aria-busy") === "true") { ev.preventDefault(); return; }
        if (!btn || !btn.hasAttribute("data-busy")) return;
        form.setAttribute("aria-busy", "true");
        btn.classList.add("is-busy");
        var label = btn.getAttribute("data-busy");
        if (label) { btn.setAttribute("aria-label", label); var live = document.getElementById("busy-status"); if (live) live.textContent = label; }
      });
    }
    // Coming back with the browser's Back button shows the page as it was
    // left: clear the busy state.
    window.addEventListener("pageshow", function () {
      var busy = document.querySelectorAll('[aria-busy="true"], .is-busy');
      for (var b = 0; b < busy.length; b++) { busy[b].removeAttribute("aria-busy"); busy[b].classList.remove("is-busy"); busy[b].removeAttribute("aria-label"); }
    });

    // A chosen settings file (import) is read into the textarea the form
    // sends; without JavaScript the admin pastes it.
    var picks = document.querySelectorAll("input[type=file][data-fill]");
    for (var p = 0; p < picks.length; p++) {
      picks[p].addEventListener("change", function (ev) {
        var input = ev.target, area = document.getElementById(input.getAttribute("data-fill"));
        if (!area || !input.files || !input.files[0]) return;
        input.files[0].text().then(function (t) { area.value = t; });
      });
    }

    var autos = document.querySelectorAll("select[data-autosubmit]");
    for (var j = 0; j < autos.length; j++) {
      autos[j].addEventListener("change", function (ev) {
        var form = ev.target.form;
        var btn = form && form.querySelector("button[value=refresh]");
        if (!btn) return;
        if (form.requestSubmit) form.requestSubmit(btn); else btn.click();
      });
    }
  });
})();
