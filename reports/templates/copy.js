// Copy buttons, added by this script (without JavaScript the text is still on the page to select): "copy reproducer"
// before every reproducer, and "copy as upstream issue" on every card, which copies the Markdown the page was built
// with (its hidden <pre class="upstream-issue">; shown and selected where the browser refuses to copy).
(function () {
  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function addButton(label, cls, before, pre, reveal, revealFirst) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy " + cls;
    button.textContent = label;
    function done(ok) {
      button.textContent = ok ? "copied" : "selected: press Ctrl+C";
      setTimeout(function () { button.textContent = label; }, 2000);
    }
    function selectIt() {
      reveal();
      select(pre);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
    button.addEventListener("click", function () {
      if (revealFirst) { reveal(); }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(pre.textContent).then(function () { done(true); }, selectIt);
      } else {
        selectIt();
      }
    });
    before.parentNode.insertBefore(button, before);
  }

  document.querySelectorAll("pre.reproducer").forEach(function (pre) {
    var details = pre.closest("details");
    addButton("copy reproducer", "copy-reproducer", details || pre, pre, function () {
      if (details) { details.open = true; }
    }, true);
  });
  document.querySelectorAll("pre.upstream-issue").forEach(function (pre) {
    addButton("copy as upstream issue", "copy-issue", pre, pre, function () { pre.hidden = false; }, false);
  });
})();
