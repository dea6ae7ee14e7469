"""Times read in the reader's own zone, and in UTC, saying so, without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e

WINDOW = "2031-03-02T22:00:00Z"


@pytest.fixture(scope="module")
def scheduled(dashboard_server: Server) -> Server:
    dashboard_server.manage("edges", "upgrade", "request", "acme-ssl", "--note", "after hours")
    dashboard_server.manage(
        "edges", "upgrade", "schedule", "acme-ssl", "--at", WINDOW, "--as", "support"
    )
    return dashboard_server


@pytest.fixture
def paris(browser: Any) -> Iterator[Any]:
    context = browser.new_context(timezone_id="Europe/Paris", locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_window_reads_in_utc_without_javascript(browser: Any, scheduled: Server) -> None:
    context = browser.new_context(java_script_enabled=False, timezone_id="Europe/Paris")
    page = context.new_page()
    try:
        login(page, scheduled, "alice")
        page.goto(scheduled.url + "/edges/acme-ssl/")
        window = page.locator("#upgrade-window")
        assert window.inner_text() == "2031-03-02 22:00 UTC"
        assert window.get_attribute("datetime") == WINDOW
    finally:
        context.close()


def test_times_read_in_the_browsers_zone(paris: Any, scheduled: Server) -> None:
    login(paris, scheduled, "alice")
    paris.goto(scheduled.url + "/edges/acme-ssl/")
    window = paris.locator("#upgrade-window")
    assert window.inner_text() == "2031-03-02 23:00 CET"
    assert window.get_attribute("title") == "2031-03-02 23:00:00 CET (2031-03-02 22:00 UTC)"

    # Recent activity reads as an age, the exact local time on hover.
    paris.goto(scheduled.url + "/apps/acme-chat/")
    when = paris.locator("#app-activity time").first
    assert re.fullmatch(r"\d+ (s|min) ago", when.inner_text())
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CET \(.* UTC\)", when.get_attribute("title")
    )
    # The charts' axis too (its times an hour on from UTC), the caption naming the zone.
    axis = paris.locator("svg.chart text[data-local=tick]").first
    utc = axis.get_attribute("data-utc")
    hour, minute = int(utc[11:13]), utc[14:16]
    assert axis.text_content() == f"{(hour + 1) % 24:02d}:{minute}"
    assert paris.inner_text("#app-charts figcaption [data-local=zone]") == "CET"


def test_a_window_support_gives_in_paris_reaches_new_york_in_new_yorks_time(
    browser: Any, paris: Any, scheduled: Server
) -> None:
    context = browser.new_context(timezone_id="America/New_York", locale="en-US")
    new_york = context.new_page()
    try:
        login(new_york, scheduled, "alice")
        new_york.goto(scheduled.url + "/edges/acme-ssl/")
        new_york.wait_for_selector("[ws-connect][data-live=live]")

        login(paris, scheduled, "support")
        paris.goto(scheduled.url + "/edges/acme-ssl/")
        form = paris.locator("#upgrade-reschedule")
        assert form.locator("[data-zone-label]").inner_text() == "(your time, CET)"
        form.locator("input[data-utc-input]").fill("2031-01-16T23:30")
        form.locator("button").click()
        moved = (
            "() => document.querySelector('#upgrade-window').getAttribute('datetime')"
            " === '2031-01-16T22:30:00Z'"
        )
        paris.wait_for_function(moved)
        assert paris.inner_text("#upgrade-window") == "2031-01-16 23:30 CET"

        # Pushed over alice's socket, and shown in her zone.
        new_york.wait_for_function(moved)
        new_york.wait_for_function(
            "() => document.querySelector('#upgrade-window').textContent === '2031-01-16 17:30 EST'"
        )
    finally:
        context.close()
