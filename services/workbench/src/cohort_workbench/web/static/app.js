// Cohort workbench page behaviour. Loaded from /static (the CSP allows no inline script);
// everything here enhances forms that also work without it, except reordering.
(function () {
  "use strict";
  var csrf = document.body.dataset.csrf || "";

  // Math: markdown turned $…$ into .math elements holding the TeX as text; KaTeX typesets them.
  function renderMath(root) {
    if (!window.katex) return;
    root.querySelectorAll(".math").forEach(function (el) {
      if (el.dataset.typeset) return;
      var tex = el.textContent;
      try {
        window.katex.render(tex, el, { displayMode: el.classList.contains("block"), throwOnError: false, trust: false });
        el.dataset.typeset = "1";
      } catch (e) { el.textContent = tex; }
    });
  }
  document.addEventListener("htmx:afterSwap", function (e) { renderMath(e.target); });

  // Lease countdown, from the expiry the server put on #countdown (and heartbeats move).
  function countdown() {
    var el = document.getElementById("countdown");
    if (!el || !el.dataset.expire) return;
    var left = Math.floor((Date.parse(el.dataset.expire) - Date.now()) / 1000);
    if (left <= 0) { el.textContent = "ended"; el.classList.add("low"); return; }
    var m = Math.floor(left / 60), s = left % 60;
    el.textContent = m + ":" + (s < 10 ? "0" : "") + s + " left";
    el.classList.toggle("low", left < 120);
  }

  // Heartbeat while the page is visible: the lease is extended only for an expert who is there.
  function heartbeat(form) {
    if (document.visibilityState !== "visible") return;
    fetch(form.dataset.heartbeatUrl, { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var el = document.getElementById("countdown");
        if (body.expire_time && el) { el.dataset.expire = body.expire_time; countdown(); }
        if (body.ended) { window.location.reload(); }
      })
      .catch(function () { /* offline for a moment: the next beat tries again */ });
  }

  function announce(text) {
    var live = document.getElementById("ranking-status");
    if (live) live.textContent = text;
  }
  function changed(form) { if (form) form.dispatchEvent(new Event("reordered", { bubbles: true })); }

  // Ranking: buttons, number keys and drag to reorder; the hidden inputs follow the list order.
  function setupRanking(list) {
    var form = list.closest("form");
    function labelOf(li) { return li.querySelector(".label").textContent; }
    list.addEventListener("click", function (e) {
      var btn = e.target.closest("button.move");
      if (!btn) return;
      var li = btn.closest("li");
      if (btn.dataset.move === "up" && li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
      else if (btn.dataset.move === "down" && li.nextElementSibling) list.insertBefore(li.nextElementSibling, li);
      btn.focus();
      announce(labelOf(li) + " is now number " + (Array.prototype.indexOf.call(list.children, li) + 1));
      changed(form);
    });
    document.addEventListener("keydown", function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      var t = e.target;
      if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT" || t.isContentEditable)) return;
      if (!/^[1-9]$/.test(e.key)) return;
      var li = list.querySelector('li[data-position="' + e.key + '"]');
      if (!li) return;
      e.preventDefault();
      list.insertBefore(li, list.firstElementChild);
      announce(labelOf(li) + " is now first");
      changed(form);
    });
    var dragged = null;
    list.addEventListener("dragstart", function (e) { dragged = e.target.closest("li"); if (dragged) dragged.classList.add("dragging"); });
    list.addEventListener("dragend", function () { if (dragged) dragged.classList.remove("dragging"); dragged = null; changed(form); });
    list.addEventListener("dragover", function (e) {
      e.preventDefault();
      var over = e.target.closest("li");
      if (!dragged || !over || over === dragged) return;
      var rect = over.getBoundingClientRect();
      list.insertBefore(dragged, e.clientY > rect.top + rect.height / 2 ? over.nextElementSibling : over);
    });
  }

  // Trajectory steps: add, remove and reorder; names and ids are renumbered to the list order.
  function setupSteps(list) {
    var form = list.closest("form");
    function renumber() {
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.querySelectorAll("[data-part]").forEach(function (el) {
          el.name = "steps-" + i + "-" + el.dataset.part;
          el.id = "f-steps-" + i + "-" + el.dataset.part;
        });
        li.querySelectorAll("label").forEach(function (label, j) {
          var parts = ["kind", "content", "tool_name", "tool_arguments_json"];
          if (parts[j]) label.htmlFor = "f-steps-" + i + "-" + parts[j];
        });
      });
      changed(form);
    }
    list.addEventListener("click", function (e) {
      var btn = e.target.closest("button[data-step]");
      if (!btn) return;
      var li = btn.closest("li");
      if (btn.dataset.step === "remove" && list.children.length > 1) { li.remove(); }
      else if (btn.dataset.step === "up" && li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
      else if (btn.dataset.step === "down" && li.nextElementSibling) list.insertBefore(li.nextElementSibling, li);
      renumber();
      var focus = btn.isConnected ? btn : list.querySelector("select");
      if (focus) focus.focus();
    });
    var add = document.getElementById("add-step");
    if (add) add.addEventListener("click", function () {
      var copy = list.lastElementChild.cloneNode(true);
      copy.querySelectorAll("textarea, input").forEach(function (el) { el.value = ""; });
      copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      list.appendChild(copy);
      renumber();
      copy.querySelector("select").focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document);
    countdown();
    setInterval(countdown, 1000);
    var form = document.getElementById("work-form");
    if (form && form.dataset.heartbeatUrl) {
      // An expiry already past (a page shown after a refused submit carries the one tasking gave
      // at leasing, which heartbeats have since moved) is asked for again at once.
      var shown = document.getElementById("countdown");
      if (shown && (!shown.dataset.expire || Date.parse(shown.dataset.expire) <= Date.now())) heartbeat(form);
      setInterval(function () { heartbeat(form); }, 30000);
      document.addEventListener("visibilitychange", function () { heartbeat(form); });
    }
    var ranking = document.getElementById("ranking");
    if (ranking) setupRanking(ranking);
    var steps = document.getElementById("steps");
    if (steps) setupSteps(steps);
  });
})();
