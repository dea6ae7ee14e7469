// An undo offered for a while (a revoked token, a removed back-end) leaves the page when its
// time is up: past it the button would only meet a refusal. The offer says so instead.
"use strict";

(() => {
  const expire = () => {
    const now = Date.now();
    for (const offer of document.querySelectorAll("[data-undo-until]")) {
      const until = Date.parse(offer.dataset.undoUntil);
      if (Number.isNaN(until) || until > now) continue;
      offer.removeAttribute("data-undo-until");
      for (const form of offer.querySelectorAll("form")) form.remove();
      const note = offer.querySelector("[data-undo-note]");
      if (note) note.textContent = "The time to undo this has passed.";
    }
  };
  setInterval(expire, 1000);
  document.addEventListener("htmx:load", expire);
})();
