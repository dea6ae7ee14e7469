// Live pages: reconnect quickly after the server closes a socket on purpose, and keep
// "N s ago" texts current between pushes.
"use strict";

(() => {
  // htmx's default backs off up to a minute; cap the wait at 5 s with jitter.
  htmx.config.wsReconnectDelay = (retryCount) => {
    const ceiling = Math.min(5000, 250 * 2 ** retryCount);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  };

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
