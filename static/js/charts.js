// Charts tell each point's time and values: on hover, and on the keyboard (a chart takes the
// focus; the arrow keys, Home and End step through its points), in a tooltip that a screen
// reader hears (role="status"), with the time in the reader's zone. Without JavaScript each
// point's <title> says the same in UTC.
"use strict";

(() => {
  const CHART = "svg[data-chart]";
  const pad = (n) => String(n).padStart(2, "0");
  const zoneFormat = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });
  const zone = (date) => {
    const part = zoneFormat.formatToParts(date).find((p) => p.type === "timeZoneName");
    return part ? part.value : "";
  };
  const moment = (d) =>
    `${d.toLocaleDateString(undefined, { weekday: "short" })} ${d.getDate()}, ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())} ${zone(d)}`;
  const number = (value) => Number(value).toLocaleString();
  // Two lines: the moment, then the values.
  const describe = (point) => [
    moment(new Date(point.dataset.at)),
    `average ${number(point.dataset.average)} · peak ${number(point.dataset.peak)} connections`,
  ];

  const tipOf = (chart) => chart.parentElement.querySelector(".chart-tip");
  const hide = (chart) => {
    for (const point of chart.querySelectorAll(".point.active")) point.classList.remove("active");
    const tip = tipOf(chart);
    if (tip) {
      tip.textContent = "";
      tip.classList.remove("shown");
    }
  };
  const show = (chart, point) => {
    hide(chart);
    if (!point) return;
    point.classList.add("active");
    // The tooltip says it; the browser's own tooltip would say it again, in UTC.
    const title = point.querySelector("title");
    if (title) title.remove();
    const tip = tipOf(chart);
    if (!tip) return;
    const [when, values] = describe(point);
    const strong = document.createElement("strong");
    strong.textContent = when;
    tip.replaceChildren(strong, document.createElement("br"), values);
    tip.classList.add("shown");
    const figure = chart.parentElement.getBoundingClientRect();
    const hit = point.querySelector(".hit").getBoundingClientRect();
    const half = tip.offsetWidth / 2;
    const middle = hit.left + hit.width / 2 - figure.left;
    tip.style.left = `${Math.min(Math.max(middle, half), figure.width - half)}px`;
    tip.style.top = `${chart.getBoundingClientRect().top - figure.top}px`;
  };

  document.addEventListener("pointerover", (event) => {
    const point = event.target.closest && event.target.closest(`${CHART} .point`);
    if (point) show(point.closest(CHART), point);
  });
  document.addEventListener("pointerout", (event) => {
    const chart = event.target.closest && event.target.closest(CHART);
    if (chart && !chart.contains(event.relatedTarget) && document.activeElement !== chart) {
      hide(chart);
    }
  });
  document.addEventListener("focusin", (event) => {
    const chart = event.target.closest && event.target.closest(CHART);
    if (chart && !chart.querySelector(".point.active")) {
      const points = chart.querySelectorAll(".point");
      show(chart, points[points.length - 1]);
    }
  });
  document.addEventListener("focusout", (event) => {
    const chart = event.target.closest && event.target.closest(CHART);
    if (chart) hide(chart);
  });
  const STEPS = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };
  document.addEventListener("keydown", (event) => {
    const chart = event.target.closest && event.target.closest(CHART);
    if (!chart || !(event.key in STEPS)) return;
    const points = [...chart.querySelectorAll(".point")];
    if (!points.length) return;
    event.preventDefault();
    const at = points.indexOf(chart.querySelector(".point.active"));
    const step = STEPS[event.key];
    const next = Math.min(Math.max((at < 0 ? points.length - 1 : at) + step, 0), points.length - 1);
    show(chart, points[next]);
  });
})();
