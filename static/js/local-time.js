// Times in the reader's own zone. The server writes every moment in UTC, saying so
// (`<time datetime="2026-11-30T15:05:00Z" data-local="relative">2026-11-30 15:05 UTC</time>`,
// pages/templatetags/dashboard_tags.py), which is what a reader without JavaScript sees; this
// rewrites each one in the browser's zone, including those htmx and the live sockets swap in
// later, and lets window fields take a time in the browser's zone while the server gets UTC.
"use strict";

(() => {
  const pad = (n) => String(n).padStart(2, "0");
  const zoneFormat = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });
  const zone = (date) => {
    const part = zoneFormat.formatToParts(date).find((p) => p.type === "timeZoneName");
    return part ? part.value : "";
  };
  const day = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const clock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const exact = (d) => `${day(d)} ${clock(d)}:${pad(d.getSeconds())} ${zone(d)}`;
  const utc = (d) => d.toISOString().slice(0, 16).replace("T", " ") + " UTC";

  const ago = (seconds) => {
    if (seconds < 60) return `${seconds} s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    return `${Math.floor(seconds / 3600)} h ago`;
  };

  const text = (style, when, now) => {
    const seconds = Math.round((now - when) / 1000);
    switch (style) {
      case "since":
        return ago(Math.max(0, seconds));
      case "relative":
        // The last day reads best as an age; anything older (or ahead) as the moment itself.
        if (seconds >= -60 && seconds < 86400) return ago(Math.max(0, seconds));
        return `${day(when)} ${clock(when)} ${zone(when)}`;
      case "date":
        return day(when);
      case "clock":
        return `${clock(when)} ${zone(when)}`;
      // A chart's axis: its times without the zone, which the axis names once ("zone").
      case "tick":
        return clock(when);
      case "weekday":
        return `${when.toLocaleDateString(undefined, { weekday: "short" })} ${when.getDate()}`;
      case "zone":
        return zone(when);
      default:
        return `${day(when)} ${clock(when)} ${zone(when)}`;
    }
  };

  const SELECTOR = "[data-local]";
  const show = (element, now) => {
    const when = new Date(element.getAttribute("datetime") || element.dataset.utc || "");
    if (Number.isNaN(when.getTime())) return;
    const shown = text(element.dataset.local, when, now);
    if (element.textContent !== shown) element.textContent = shown;
    const title = `${exact(when)} (${utc(when)})`;
    // An SVG label has no title attribute (and needs none).
    if (element instanceof SVGElement) return;
    if (element.getAttribute("title") !== title) element.setAttribute("title", title);
  };
  const showAll = (root) => {
    const now = Date.now();
    if (root.matches && root.matches(SELECTOR)) show(root, now);
    for (const element of root.querySelectorAll(SELECTOR)) show(element, now);
  };

  // A window field (`<input type="datetime-local" data-utc-input>`) takes UTC without
  // JavaScript, as its label says; here it takes the reader's time, and a hidden field of the
  // field's name sends the server the same moment in UTC.
  const localValue = (date) => `${day(date)}T${clock(date)}`;
  const sync = (input) => {
    const hidden = input.nextElementSibling;
    if (!hidden || hidden.name !== input.dataset.utcInput) return;
    const when = input.value ? new Date(input.value) : null;
    hidden.value = when && !Number.isNaN(when.getTime()) ? when.toISOString() : input.value;
  };
  const takeLocal = (input) => {
    if (input.dataset.utcInput) return;
    const name = input.name;
    input.dataset.utcInput = name;
    const raw = input.getAttribute("value") || "";
    if (raw) {
      const when = new Date(/Z|[+-]\d\d:\d\d$/.test(raw) ? raw : `${raw}Z`);
      // The default too: live.js takes a field whose value left its default for a draft.
      if (!Number.isNaN(when.getTime())) input.defaultValue = input.value = localValue(when);
    }
    input.name = `${name}_local`;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = name;
    input.after(hidden);
    const label = input.closest("label");
    const note = label && label.querySelector("[data-zone-label]");
    if (note) note.textContent = `(your time, ${zone(new Date())})`;
    sync(input);
    input.addEventListener("input", () => sync(input));
    input.addEventListener("change", () => sync(input));
  };
  const enhance = (root) => {
    showAll(root);
    if (root.matches && root.matches("input[data-utc-input]")) takeLocal(root);
    for (const input of root.querySelectorAll("input[data-utc-input]")) takeLocal(input);
  };

  enhance(document);
  // Every second: the ages move on ("12 s ago").
  setInterval(() => {
    const now = Date.now();
    for (const element of document.querySelectorAll(
      '[data-local="since"], [data-local="relative"]',
    )) {
      show(element, now);
    }
  }, 1000);
  // Whatever htmx or a socket swaps in later. A pushed panel is prepared before the swap, so
  // a draft carried into it (static/js/live.js) meets fields that already take local time.
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node.nodeType === Node.ELEMENT_NODE) enhance(node);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("htmx:oobBeforeSwap", (event) => enhance(event.detail.fragment));
  document.addEventListener("htmx:oobAfterSwap", () => {
    for (const input of document.querySelectorAll("input[data-utc-input]")) sync(input);
  });
})();
