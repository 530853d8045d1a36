// "Chép" buttons: copy the text of the element named by data-copy-target (a SIP password, a
// one-time link). The clipboard API needs a secure context; elsewhere the text is selected and
// copied the older way, and if that fails too the button asks the person to copy it by hand.
(function () {
  "use strict";

  function selectText(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyTheOldWay(element) {
    selectText(element);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function say(button, label) {
    button.querySelector("span").textContent = label;
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      const element = document.querySelector(button.dataset.copyTarget);
      if (!element) {
        return;
      }
      const text = element.textContent.trim();
      const done = function () { say(button, button.dataset.copiedLabel); };
      const failed = function () {
        if (copyTheOldWay(element)) {
          done();
        } else {
          selectText(element);
          say(button, button.dataset.failedLabel);
        }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, failed);
      } else {
        failed();
      }
    });
  });
})();
