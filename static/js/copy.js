// Copy buttons: a button marked data-copy="<id>" copies that element's text to the clipboard and
// says so next to it. Without JavaScript the button stays hidden and the text is selectable.
// A field marked data-checks="<id>" ticks that radio button once something is typed into it.
"use strict";

(() => {
  const say = (button, text) => {
    const status = button.parentElement.querySelector(".copy-status");
    if (status) status.textContent = text;
  };

  const selectText = (element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  };

  const copy = async (button) => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
      say(button, "Copied to the clipboard.");
    } catch {
      // No clipboard here (an insecure origin, or permission refused): select it for the keys.
      selectText(source);
      say(button, "Selected: press Ctrl+C (⌘C on a Mac) to copy.");
    }
  };

  const setUp = (root) => {
    for (const button of root.querySelectorAll("button[data-copy]")) {
      button.hidden = false;
    }
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (button) copy(button);
  });
  document.addEventListener("input", (event) => {
    const radio = event.target.dataset && document.getElementById(event.target.dataset.checks);
    if (radio) radio.checked = true;
  });
  document.addEventListener("DOMContentLoaded", () => setUp(document));
})();
