// andon board: follow the server's event stream and refresh the live parts of the page.
// The server pushes; this script never asks on a timer. When events arrive it fetches the page
// once (at most every MIN_GAP ms) and swaps each element marked data-live. Operator forms
// (data-api) are sent as JSON with the page's CSRF token; the session cookie is HttpOnly.
(function () {
  "use strict";

  var MIN_GAP = 250; // ms between two refreshes while events keep coming
  var heardAt = 0;
  var lastRefresh = 0;
  var timer = null;
  var inflight = false;
  var again = false;
  var shown = {}; // id of a live part -> the HTML it was last given
  var heard = document.getElementById("heard");
  var heardText = document.getElementById("heard-text");

  function showHeard(state) {
    if (!heard) return;
    if (state) heard.setAttribute("data-state", state);
    if (heard.getAttribute("data-state") === "lost") {
      heardText.textContent = "connection lost, reconnecting…";
      return;
    }
    if (!heardAt) return;
    var s = Math.round((Date.now() - heardAt) / 1000);
    heardText.textContent = s < 2 ? "just now" : s < 120 ? s + " s ago" : Math.round(s / 60) + " min ago";
  }

  function heardNow() {
    heardAt = Date.now();
    showHeard("live");
  }

  // an input being typed into is not replaced under the user's fingers
  function busy(el) {
    var a = document.activeElement;
    return a && a !== document.body && el.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName);
  }

  function refresh() {
    timer = null;
    if (inflight) { again = true; return; }
    inflight = true;
    lastRefresh = Date.now();
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Andon-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var pending = false;
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var fresh = el.id && doc.getElementById(el.id);
          if (!fresh) return;
          // a part that did not change is left alone: swapping a thousand lines costs the
          // browser a restyle and a layout, and the event stream waits behind them
          var text = fresh.outerHTML;
          if (shown[el.id] === undefined) shown[el.id] = el.outerHTML;
          if (text === shown[el.id]) return;
          if (busy(el)) { pending = true; return; }
          el.replaceWith(document.adoptNode(fresh));
          shown[el.id] = text;
        });
        if (pending) document.addEventListener("focusout", schedule, { once: true });
        centreLineage();
        document.documentElement.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* the next event tries again */ })
      .then(function () {
        inflight = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule() {
    if (timer) return;
    var wait = Math.max(60, MIN_GAP - (Date.now() - lastRefresh));
    timer = setTimeout(refresh, wait);
  }

  function connect() {
    if (!window.EventSource) return;
    var source = new EventSource("/api/v1/events/stream");
    source.onopen = heardNow;
    source.onmessage = function () { heardNow(); schedule(); };
    source.addEventListener("heartbeat", heardNow);
    source.addEventListener("reset", function () { window.location.reload(); });
    source.onerror = function () { showHeard("lost"); };
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // -- a running run's log ------------------------------------------------------------------------

  // The run page of a queued or running run: its log <pre> names a stream that sends what the run
  // writes (from the end of what the page shows) and ends with "end" when the run has ended. A
  // reconnecting EventSource sends the last byte offset it got (Last-Event-ID) and gets the rest.
  var LOG_KEEP = 262144; // characters of log kept on the page; older ones are cut
  function followLog() {
    var pre = document.querySelector("pre.log[data-stream]");
    if (!pre || !window.EventSource) return;
    var state = document.getElementById("log-state");
    var source = new EventSource(pre.getAttribute("data-stream"));
    source.onmessage = function (e) {
      var text;
      try { text = JSON.parse(e.data).text; } catch (err) { return; }
      if (!text) return;
      var follow = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24; // at the bottom
      if (pre.hasAttribute("data-empty")) { pre.textContent = ""; pre.removeAttribute("data-empty"); }
      // a text node, like textContent: the log is shown as text, never parsed as markup
      pre.appendChild(document.createTextNode(text));
      if (pre.childNodes.length > 200) {
        var all = pre.textContent;
        if (all.length > LOG_KEEP) all = all.slice(all.length - LOG_KEEP);
        pre.textContent = all; // one text node again
      }
      pre.setAttribute("data-offset", e.lastEventId);
      if (follow) pre.scrollTop = pre.scrollHeight;
    };
    source.addEventListener("cut", function () { // the capped log was cut on disk
      pre.appendChild(document.createTextNode("\n... [andon: the log was cut here] ...\n"));
    });
    source.addEventListener("end", function () {
      source.close(); // or the browser would reconnect
      pre.setAttribute("data-state", "ended");
      if (state) state.textContent = "run ended";
    });
    source.onerror = function () { if (state) state.textContent = "reconnecting…"; };
    source.onopen = function () { if (state) state.textContent = "following"; };
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // -- operator actions ---------------------------------------------------------------------------

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function send(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      if (el.hasAttribute("data-optional") && el.value === "") return; // left out: not sent
      // a field marked data-int (a version) is a number in the JSON the API expects
      var value = el.type === "checkbox" ? el.checked
        : el.hasAttribute("data-int") ? parseInt(el.value, 10) : el.value;
      // "answers.purpose": a field of the object "answers" (an access request's form)
      var dot = el.name.indexOf(".");
      if (dot > 0) {
        var outer = el.name.slice(0, dot);
        body[outer] = body[outer] || {};
        body[outer][el.name.slice(dot + 1)] = value;
      } else {
        body[el.name] = value;
      }
    });
    var out = form.querySelector("output");
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    if (out) { out.className = ""; out.textContent = "sending…"; }
    fetch(form.getAttribute("data-api"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!out) return;
        if (r.ok) {
          out.textContent = data.location ? "restored to " + data.location
            : data.cord_id ? "done: cord " + data.cord_id
            : data.request_id ? "done: request " + data.request_id + " is " + data.status
            : "done";
        } else {
          out.className = "bad";
          out.textContent = (data.message || ("HTTP " + r.status)) + (data.hint ? " (" + data.hint + ")" : "");
        }
      });
    }).catch(function () {
      if (out) { out.className = "bad"; out.textContent = "the server did not answer"; }
    }).then(function () {
      if (button) button.disabled = false;
    });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-api")) {
      e.preventDefault();
      send(form);
    }
  });

  // a lineage wider than its panel is shrunk to fit it (CSS); "actual size" shows it full size,
  // scrolling, starting with the data set of the page in view. The choice outlives a refresh.
  var lineageFull = false;
  function centreLineage() {
    var svg = document.getElementById("lineage");
    var wrap = svg && svg.closest(".lineage-wrap");
    var zoom = document.querySelector(".lineage-zoom");
    if (!wrap) return;
    var wide = Number(svg.getAttribute("width")) > wrap.clientWidth;
    wrap.classList.toggle("full", wide && lineageFull);
    if (zoom) {
      zoom.hidden = !wide;
      zoom.textContent = lineageFull ? "fit to width" : "actual size";
      zoom.setAttribute("aria-pressed", String(lineageFull));
    }
    var focus = svg.querySelector(".focus rect");
    if (!focus || wrap.scrollWidth <= wrap.clientWidth) return;
    var x = Number(focus.getAttribute("x")) + Number(focus.getAttribute("width")) / 2;
    wrap.scrollLeft = Math.max(0, x - wrap.clientWidth / 2);
  }
  document.addEventListener("click", function (e) {
    if (!(e.target instanceof Element) || !e.target.closest(".lineage-zoom")) return;
    lineageFull = !lineageFull;
    centreLineage();
  });
  window.addEventListener("resize", centreLineage);
  centreLineage();

  // -- the front page's search: results as you type ----------------------------------------------

  // An input with data-suggest asks that URL for the results of what is typed (an HTML fragment
  // the server rendered and escaped) once typing pauses, and shows them in the element named by
  // data-results. A newer query aborts the request of an older one, so a slow stale answer never
  // replaces a fresh one. Without the script the input is a plain form to /search.
  var SUGGEST_WAIT = 120; // ms of quiet before asking
  function suggest(input) {
    var box = document.getElementById(input.getAttribute("data-results"));
    if (!box || !window.fetch) return;
    var timer = null;
    var asking = null; // the AbortController of the request in flight
    var asked = null; // the query last asked for
    function show(html, q) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      while (box.firstChild) box.removeChild(box.firstChild);
      Array.prototype.slice.call(doc.body.childNodes).forEach(function (n) {
        box.appendChild(document.adoptNode(n));
      });
      box.hidden = !q;
      box.setAttribute("data-q", q);
    }
    function ask() {
      timer = null;
      var q = input.value.trim();
      if (q === asked) return;
      asked = q;
      if (asking) asking.abort();
      asking = null;
      if (!q) { show("", ""); return; }
      var mine = window.AbortController ? new AbortController() : null;
      asking = mine;
      fetch(input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q),
            { credentials: "same-origin", signal: mine ? mine.signal : undefined })
        .then(function (r) { return r.text(); }) // a refusal (422) is a fragment too
        .then(function (html) {
          if (asking !== mine) return; // a newer query went out meanwhile
          asking = null;
          show(html, q);
        })
        .catch(function () { /* aborted, or the server is away: the form still works */ });
    }
    input.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(ask, SUGGEST_WAIT);
    });
    input.addEventListener("keydown", function (e) {
      var first = box.querySelector("a");
      if (e.key === "ArrowDown" && first && !box.hidden) { e.preventDefault(); first.focus(); }
      if (e.key === "Escape") {
        if (timer) { clearTimeout(timer); timer = null; }
        input.value = "";
        ask();
      }
    });
    if (input.value.trim()) ask(); // a query kept by the browser's back button
  }
  document.querySelectorAll("input[data-suggest]").forEach(suggest);

  // the "last heard" text ages by itself: a local clock, no request
  window.setInterval(function () { showHeard(); }, 1000);
  connect();
  followLog();
})();
