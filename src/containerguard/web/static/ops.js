// Copy buttons for values shown once (a new token, a registry's notification snippet). The buttons are
// hidden without JavaScript; the page then says to select and copy by hand.
(function () {
  "use strict";

  function text(el) {
    return el.value !== undefined ? el.value : el.textContent;
  }

  function selectAll(el) {
    if (el.select) {
      el.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) {
      return;
    }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text(target)).then(done, function () { selectAll(target); });
      } else {
        // Plain-HTTP origins have no clipboard API: select it for Ctrl+C.
        selectAll(target);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  });
}());
