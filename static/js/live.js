// Live pages: reconnect quickly after the server closes a socket on purpose, and swap pushed
// panels in without losing what the user typed. (The server renders absolute times, so a panel
// rendered a second later is the same panel: static/js/local-time.js keeps "N s ago" current.)
"use strict";

(() => {
  // Full jitter from the first attempt: after a deploy every open page reconnects at once, and
  // spreading the first tries over a second (then 2 s, 4 s, capped at 5 s where htmx's default
  // goes to a minute) keeps them from arriving as one herd. A server that is busy answers 1013
  // and the next try lands later, at a random moment again.
  htmx.config.wsReconnectDelay = (retryCount) =>
    Math.random() * Math.min(5000, 1000 * 2 ** retryCount);

  // Panels pushed by the server carry this where a page's forms have their CSRF token (only a
  // request has one): the page puts its own token in before the panel is swapped in.
  const CSRF_PLACEHOLDER = "from-the-page";
  const csrfToken = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch {
      return "";
    }
  };

  // A push never takes a draft from under the user's hands: what they typed (and the focus) is
  // carried into the new panel, with a note that the panel changed around it.
  // A draft: a field the user typed into or ticked, or one the server sent back with an error.
  const ticks = (field) => field.type === "checkbox";
  const picks = (field) => field instanceof HTMLSelectElement;
  const changed = (field) => {
    if (ticks(field)) return field.checked !== field.defaultChecked;
    if (picks(field)) return [...field.options].some((o) => o.selected !== o.defaultSelected);
    return field.value !== field.defaultValue;
  };
  const typed = (root) =>
    [...root.querySelectorAll("input, textarea, select")].filter(
      (field) =>
        field.type !== "hidden" && field.name && (changed(field) || field.closest(".has-error")),
    );

  // What the user's own last action was answered with (a notice, a refusal, a field's error,
  // marked data-keep) stays until they act again: a push puts it back into the new panel, at
  // the same place under the nearest element with an id.
  const pathTo = (home, element) => {
    const path = [];
    for (let node = element; node !== home; node = node.parentElement) {
      path.unshift([...node.parentElement.children].indexOf(node));
    }
    return path;
  };
  const follow = (home, path) => {
    let node = home;
    for (const index of path) {
      if (!node || !node.children[index]) return null;
      node = node.children[index];
    }
    return node;
  };
  const carryKept = (target, fragment) => {
    for (const kept of target.querySelectorAll("[data-keep]")) {
      const home = kept.parentElement.closest("[id]");
      if (!home) continue;
      const twinHome = fragment.querySelector(`#${CSS.escape(home.id)}`);
      if (!twinHome || twinHome.querySelector(`[data-keep="${kept.dataset.keep}"]`)) continue;
      const place = follow(twinHome, pathTo(home, kept.parentElement)) || twinHome;
      const index = [...kept.parentElement.children].indexOf(kept);
      place.insertBefore(kept.cloneNode(true), place.children[index] || null);
      for (const marked of [home, kept.parentElement]) {
        if (marked.classList.contains("has-error")) {
          (marked === home ? twinHome : place).classList.add("has-error");
        }
      }
    }
  };
  const twinOf = (field, root) => {
    const action = field.form ? field.form.getAttribute("action") : null;
    for (const form of root.querySelectorAll("form")) {
      if (form.getAttribute("action") === action && form.elements.namedItem(field.name)) {
        return form.elements.namedItem(field.name);
      }
    }
    return null;
  };
  let refocus = null;

  // A press (mouse, pen or touch) inside a panel holds the panel's pushes until it is released:
  // a push landing between the press and the release would take away the button being clicked,
  // and the click with it. The latest held push goes in after the click's own handlers, unless
  // the click sent a request (its answer brings the panel as it is now).
  let pressed = null;
  let holdLimit = null;
  const held = new Map(); // panel id -> the latest push it held, ready to be swapped again
  const release = () => {
    pressed = null;
    clearTimeout(holdLimit);
    setTimeout(() => {
      for (const [id, markup] of [...held]) {
        held.delete(id);
        htmx.swap(document.body, markup, { swapStyle: "none" });
      }
    });
  };
  document.addEventListener(
    "pointerdown",
    (event) => {
      pressed = event.target;
      clearTimeout(holdLimit);
      holdLimit = setTimeout(release, 10_000); // a release the page never hears
    },
    true,
  );
  for (const name of ["pointerup", "pointercancel"]) {
    document.addEventListener(name, release, true);
  }
  window.addEventListener("blur", () => pressed && release());
  const hold = (target, fragment) => {
    // An outerHTML push arrives as a document fragment holding the new panel.
    const panel = fragment.firstElementChild;
    if (!pressed || !panel || panel.id !== target.id || !target.contains(pressed)) {
      held.delete(target.id);
      return false;
    }
    const again = panel.cloneNode(true);
    again.setAttribute("hx-swap-oob", "true");
    held.set(target.id, again.outerHTML);
    return true;
  };

  // A push of a panel the page already shows as it is (every socket gets its whole view when
  // it joins, just after the page loaded) is left out: swapping it would only reset what the
  // reader is doing in it. What the page's own scripts write is not part of the comparison.
  const markup = (panel) => {
    const copy = panel.cloneNode(true);
    copy.removeAttribute("hx-swap-oob");
    copy.classList.remove("htmx-settling", "htmx-added", "htmx-swapping");
    if (!copy.classList.length) copy.removeAttribute("class");
    for (const input of copy.querySelectorAll('input[name="csrfmiddlewaretoken"]')) {
      input.removeAttribute("value");
    }
    for (const moment of copy.querySelectorAll("[data-local]")) {
      moment.textContent = "";
      moment.removeAttribute("title");
    }
    return copy.outerHTML;
  };
  const unchanged = (target, fragment) => {
    const panel = fragment.firstElementChild;
    return Boolean(panel && panel.id && panel.id === target.id) && markup(panel) === markup(target);
  };

  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const { target, fragment } = event.detail;
    if (hold(target, fragment) || unchanged(target, fragment)) {
      event.detail.shouldSwap = false;
      return;
    }
    // A panel whose form is being answered is left to that answer: swapping it now would take
    // away the element the answer is swapped into (the answer carries the current state too).
    const busy = ".htmx-request, [data-pending]";
    if (target.matches(busy) || target.querySelector(busy)) {
      event.detail.shouldSwap = false;
      return;
    }
    for (const input of fragment.querySelectorAll('input[name="csrfmiddlewaretoken"]')) {
      if (input.value === CSRF_PLACEHOLDER) input.value = csrfToken();
    }
    carryKept(target, fragment);
    for (const field of typed(target)) {
      const twin = twinOf(field, fragment);
      if (!twin) continue;
      if (ticks(field)) twin.checked = field.checked;
      else if (picks(field) && ![...twin.options].some((o) => o.value === field.value)) continue;
      else twin.value = field.value;
      if (!twin.form.querySelector(".draft-note")) {
        const note = document.createElement("p");
        note.className = "draft-note";
        note.setAttribute("role", "status");
        note.textContent =
          "This panel changed while you were typing. Your entry is kept: check it still applies before you submit.";
        twin.form.prepend(note);
      }
      if (document.activeElement === field) {
        refocus = { twin, start: field.selectionStart, end: field.selectionEnd };
      }
    }
  });
  document.addEventListener("htmx:oobAfterSwap", () => {
    if (refocus && refocus.twin.isConnected) {
      refocus.twin.focus();
      if (refocus.start !== null) refocus.twin.setSelectionRange(refocus.start, refocus.end);
    }
    refocus = null;
  });

  // Mark each live block with its socket's state, so a reader can tell fresh from frozen.
  const mark = (state) => (event) => {
    event.target.dataset.live = state;
  };
  document.addEventListener("htmx:wsOpen", mark("open"));
  document.addEventListener("htmx:wsClose", mark("reconnecting"));
  document.addEventListener("htmx:wsAfterMessage", (event) => {
    event.target.dataset.live = "live";
  });
})();
