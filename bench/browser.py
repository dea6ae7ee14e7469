"""B9 browser: a report posted -> the live number changed in a real page.

Debian's Chromium driven by Playwright (headless) signs in as alice through the login form and
opens acme-web's page; once the socket delivered its snapshot (the block is marked live), a
MutationObserver in the page notes, for every connections value the number takes, the wall
clock (performance.timeOrigin + performance.now()) at which the DOM changed. Each round POSTs a
gateway report with a new value; the latency is that DOM time minus the wall clock
(time.time()) just before the POST: both are the machine's one wall clock.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import cpu_seconds, e2e, percentile, say
from bench.servers import APP, ELEMENT_ID, Values, dashboard_target

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Functions, not expressions: the page's CSP forbids eval.
OBSERVE = """(id) => {
  window.benchSeen = {};
  const note = () => {
    const element = document.getElementById(id);
    if (element && !(element.dataset.count in window.benchSeen)) {
      window.benchSeen[element.dataset.count] = performance.timeOrigin + performance.now();
    }
  };
  new MutationObserver(note).observe(document.body, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  note();
}"""
SEEN = "(value) => window.benchSeen[value] !== undefined"
WHEN = "(value) => window.benchSeen[value]"


@dataclass(frozen=True)
class BrowserConfig:
    rounds: int
    interval: float


def run(server: Any, tmp: Path, config: BrowserConfig, values: Values) -> dict[str, Any] | None:
    if not os.access(CHROMIUM, os.X_OK):
        return None
    from playwright.sync_api import sync_playwright

    helpers = e2e()
    with dashboard_target(server, tmp) as target, sync_playwright() as playwright:
        say(f"B9: daphne (dashboard) up, pid {target.pid}; Chromium opening acme-web")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(10_000)
            page.goto(target.url + "/login/")
            page.fill("input[name=username]", "alice")
            page.fill("input[name=password]", helpers.DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(target.url + "/")
            page.goto(f"{target.url}/apps/{APP}/")
            page.wait_for_selector("[ws-connect][data-live=live]")
            page.evaluate(OBSERVE, ELEMENT_ID)
            latencies: list[float] = []
            missed = 0
            cpu = cpu_seconds(target.pid)
            for _ in range(config.rounds):
                value = values.next()
                posted = time.time() * 1000
                target.send(value)
                try:
                    page.wait_for_function(SEEN, arg=str(value), timeout=5000)
                except Exception:
                    missed += 1
                    continue
                latencies.append(page.evaluate(WHEN, str(value)) - posted)
                time.sleep(config.interval)
            cpu = cpu_seconds(target.pid) - cpu
        finally:
            browser.close()
    latencies.sort()
    row = {
        "bench": "B9",
        "rounds": config.rounds,
        "samples": len(latencies),
        "missed": missed,
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "min_ms": latencies[0] if latencies else float("nan"),
        "server_cpu_s": cpu,
        "latencies_ms": [round(x, 2) for x in latencies],
    }
    say(
        f"B9: {len(latencies)} rounds, p50 {row['p50_ms']:.1f} ms, p90 {row['p90_ms']:.1f} ms, "
        f"max {row['max_ms']:.1f} ms, {missed} missed"
    )
    return row
