// The divergence cards' search box and filters, with their state in the URL's query string (?q=...&surface=...): a
// page opened with that state applies it, and each change rewrites it (history.replaceState), so the URL in the
// address bar is always a link to what is shown. A URL's #anchor (a card, a matrix cell) opens the <details> it sits
// in (for a card: all of its own) and shows the card even where the filters had hidden it. Without JavaScript the
// filter bar stays hidden and every card visible.
(function () {
  var bar = document.getElementById("card-filters");
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (!target) { return; }
    var card = target.closest("article.card");
    if (card && card.hidden && bar) { clear(); }
    for (var d = target.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) {
      d.open = true;
    }
    if (card) { each(card.querySelectorAll("details"), function (d) { d.open = true; }); }
    target.scrollIntoView();
  }

  if (!bar) {
    openTarget();
    window.addEventListener("hashchange", openTarget);
    return;
  }
  var controls = Array.prototype.slice.call(bar.querySelectorAll("[data-filter]"));
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.card"));
  var rows = document.querySelectorAll("tr[data-card]");
  var count = document.getElementById("filter-count");
  var texts = new Map();

  // what the search box matches: the card's own text, less the buttons this page's script added
  cards.forEach(function (card) {
    var walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT), parts = [], node;
    while ((node = walker.nextNode())) {
      if (!node.parentElement.closest("button")) { parts.push(node.nodeValue); }
    }
    texts.set(card, parts.join(" ").toLowerCase());
  });

  function setValue(c, value) {
    var known = c.tagName !== "SELECT" || Array.prototype.some.call(c.options, function (o) { return o.value === value; });
    if (!known) {       // a state naming what this page has no card of: kept, and matching nothing
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value + " (no card here)";
      c.appendChild(option);
    }
    c.value = value;
  }

  function readState(search) {
    var params = new URLSearchParams(search);
    controls.forEach(function (c) { setValue(c, params.get(c.dataset.filter) || ""); });
  }

  function state() {
    var s = {};
    controls.forEach(function (c) { if (c.value.trim()) { s[c.dataset.filter] = c.value.trim(); } });
    return s;
  }

  function matches(card, s) {
    return Object.keys(s).every(function (key) {
      if (key === "q") {
        var text = texts.get(card);
        return s.q.toLowerCase().split(/\s+/).every(function (word) { return text.indexOf(word) >= 0; });
      }
      if (key === "property") { return (card.dataset.property || "").split(" ").indexOf(s[key]) >= 0; }
      return card.dataset[key] === s[key];
    });
  }

  function apply() {
    var s = state(), shown = 0, hidden = {};
    cards.forEach(function (card) {
      var ok = matches(card, s);
      card.hidden = !ok;
      if (ok) { shown += 1; } else { hidden[card.id] = true; }
    });
    each(rows, function (row) { row.hidden = Boolean(hidden[row.dataset.card]); });
    count.textContent = shown + " of " + cards.length + " cards shown";
    bar.classList.toggle("active", Object.keys(s).length > 0);
  }

  function writeState(hash) {
    var params = new URLSearchParams(), s = state();
    controls.forEach(function (c) { if (s[c.dataset.filter]) { params.set(c.dataset.filter, s[c.dataset.filter]); } });
    var query = params.toString();
    try {
      history.replaceState(history.state, "", location.pathname + (query ? "?" + query : "") + (hash || location.hash));
    } catch (e) { /* a browser that refuses to rewrite this URL: the filters still apply */ }
  }

  function clear() {
    controls.forEach(function (c) { c.value = ""; });
    apply();
    writeState();
  }

  controls.forEach(function (c) {
    c.addEventListener(c.tagName === "SELECT" ? "change" : "input", function () { apply(); writeState(); });
  });
  document.getElementById("filter-clear").addEventListener("click", clear);
  // the matrix cells' links to their cards: ?surface=...&property=...#divergences, applied here without a reload
  each(document.querySelectorAll("a[data-filter-link]"), function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      var url = new URL(a.href);
      readState(url.search);
      apply();
      writeState(url.hash);
      document.getElementById(url.hash.slice(1)).scrollIntoView();
    });
  });
  readState(location.search);
  bar.hidden = false;
  apply();
  openTarget();
  window.addEventListener("hashchange", openTarget);
})();
