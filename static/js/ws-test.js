// The "Test WebSocket" page: open a socket from this browser to the chosen URL, send
// "hello server" and log every event with the time since the attempt started.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("ws-test-form");
  const log = document.getElementById("ws-test-log");
  const closeButton = document.getElementById("ws-test-close");
  const echo = document.getElementById("ws-test-echo");
  let socket = null;
  let started = 0;

  const record = (kind, text) => {
    const item = document.createElement("li");
    item.dataset.event = kind;
    item.className = "ws-event ws-" + kind;
    const elapsed = Math.round(performance.now() - started);
    item.textContent = `+${elapsed} ms  ${kind}${text ? "  " + text : ""}`;
    log.appendChild(item);
  };

  echo.textContent = location.origin.replace(/^http/, "ws") + "/ws/echo/";
  echo.addEventListener("click", (event) => {
    event.preventDefault();
    form.elements.url.value = echo.textContent;
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (socket) {
      socket.close(1000, "new test");
    }
    log.textContent = "";
    started = performance.now();
    const url = form.elements.url.value.trim();
    record("connecting", url);
    try {
      socket = new WebSocket(url);
    } catch (error) {
      record("error", error.message);
      return;
    }
    const current = socket;
    current.onopen = () => {
      record("open", "");
      current.send("hello server");
      record("sent", "hello server");
      closeButton.disabled = false;
    };
    current.onmessage = (message) => {
      record("message", typeof message.data === "string" ? message.data : "(binary data)");
    };
    current.onerror = () => record("error", "the browser gives no details for security reasons");
    current.onclose = (close) => {
      const reason = close.reason ? ` ${close.reason}` : "";
      record("close", `code ${close.code}${reason}${close.wasClean ? "" : " (not clean)"}`);
      closeButton.disabled = true;
    };
  });

  closeButton.addEventListener("click", () => {
    if (socket) {
      socket.close(1000, "closed by you");
    }
  });
});
