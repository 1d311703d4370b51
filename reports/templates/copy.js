// Adds a "copy" button before every reproducer; without JavaScript the script is still there to select.
document.querySelectorAll("pre.reproducer").forEach(function (pre) {
  var button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = "copy reproducer";
  function done(ok) {
    button.textContent = ok ? "copied" : "selected: press Ctrl+C";
    setTimeout(function () { button.textContent = "copy reproducer"; }, 2000);
  }
  function selectIt() {
    var range = document.createRange();
    range.selectNodeContents(pre);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    done(ok);
  }
  button.addEventListener("click", function () {
    var details = pre.closest("details");
    if (details) { details.open = true; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(pre.textContent).then(function () { done(true); }, selectIt);
    } else {
      selectIt();
    }
  });
  var anchor = pre.closest("details") || pre;
  anchor.parentNode.insertBefore(button, anchor);
});
