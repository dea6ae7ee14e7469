// Live pages: reconnect quickly after the server closes a socket on purpose, and keep
// "N s ago" texts current between pushes.
"use strict";

(() => {
  // Full jitter from the first attempt: after a deploy every open page reconnects at once, and
  // spreading the first tries over a second (then 2 s, 4 s, capped at 5 s where htmx's default
  // goes to a minute) keeps them from arriving as one herd. A server that is busy answers 1013
  // and the next try lands later, at a random moment again.
  htmx.config.wsReconnectDelay = (retryCount) =>
    Math.random() * Math.min(5000, 1000 * 2 ** retryCount);

  const describe = (seconds) => {
    if (seconds < 60) return `${seconds} s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    return `${Math.floor(seconds / 3600)} h ago`;
  };

  const tick = () => {
    const now = Date.now();
    for (const element of document.querySelectorAll("[data-since]")) {
      const since = Date.parse(element.dataset.since);
      if (!Number.isNaN(since)) {
        element.textContent = describe(Math.max(0, Math.round((now - since) / 1000)));
      }
    }
  };
  tick();
  setInterval(tick, 1000);

  // Mark each live block with its socket's state, so a reader can tell fresh from frozen.
  const mark = (state) => (event) => {
    event.target.dataset.live = state;
  };
  document.addEventListener("htmx:wsOpen", mark("open"));
  document.addEventListener("htmx:wsClose", mark("reconnecting"));
  document.addEventListener("htmx:wsAfterMessage", (event) => {
    event.target.dataset.live = "live";
    tick();
  });
})();
