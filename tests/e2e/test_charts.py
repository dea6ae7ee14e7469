"""Charts in the browser: the range picker (with and without JavaScript), a point's values on
hover and on the keyboard, and the sparklines of the app and edge rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e

# Three hours of acme-web's history through acme-ssl, 12 connections at most in each minute but
# every half hour's, from ten minutes ago, with 40.
HISTORY = """
import datetime as dt
from django.utils import timezone
from dashboard.models import App
from edges.models import ConnectionRollup, Edge
app, edge = App.objects.get(name="acme-web"), Edge.objects.get(name="acme-ssl")
now = timezone.now().replace(second=0, microsecond=0)
ConnectionRollup.objects.bulk_create(
    ConnectionRollup(edge=edge, app=app, minute=now - dt.timedelta(minutes=n),
                     max_connections=40 if n % 30 == 10 else 12, sum_connections=100, samples=10)
    for n in range(1, 180)
)
"""


@pytest.fixture(scope="module")
def with_history(dashboard_server: Server) -> Server:
    dashboard_server.manage("shell", "-c", HISTORY)
    return dashboard_server


@pytest.fixture
def without_javascript(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def current_range(page: Any, panel: str) -> str:
    return page.inner_text(f"#{panel} .range-picker a[aria-current]")


def test_the_range_picker_changes_the_chart_and_the_url(page: Any, with_history: Server) -> None:
    login(page, with_history, "alice")
    page.goto(with_history.url + "/apps/acme-web/")
    assert current_range(page, "app-charts") == "1 h"
    page.click("#app-charts .range-picker >> text=6 h")
    page.wait_for_url(re.compile(r"\?range=6h$"))
    page.wait_for_selector("#app-charts figcaption:has-text('Last 6 hours')")
    assert current_range(page, "app-charts") == "6 h"
    label = page.get_attribute("#app-acme-web-chart", "aria-label")
    assert label.startswith("Last 6 hours: connections of acme-web, peak 40 at ")
    # Reloaded, the page shows the range its address names.
    page.reload()
    assert current_range(page, "app-charts") == "6 h"


def test_the_range_picker_works_without_javascript(
    without_javascript: Any, with_history: Server
) -> None:
    page = without_javascript
    login(page, with_history, "alice")
    page.goto(with_history.url + "/edges/acme-ssl/")
    page.click("#edge-charts .range-picker >> text=7 d")
    page.wait_for_url(re.compile(r"\?range=7d#edge-charts$"))
    assert current_range(page, "edge-charts") == "7 d"
    assert page.inner_text("#edge-charts figcaption").startswith("Last 7 days")


def test_a_point_tells_its_time_and_values_on_hover_and_on_the_keyboard(
    page: Any, with_history: Server
) -> None:
    login(page, with_history, "alice")
    page.goto(with_history.url + "/apps/acme-web/?range=6h")
    tip = page.locator("#app-charts .chart-tip")
    points = page.locator("#app-acme-web-chart .point")
    points.nth(10).hover()
    assert tip.is_visible()
    assert re.fullmatch(r".+\d\d:\d\d UTC\naverage 10 · peak (12|40) connections", tip.inner_text())
    # Keyboard: the chart takes the focus, the arrow keys step through its points.
    page.mouse.move(0, 0)
    page.focus("#app-acme-web-chart")
    last = tip.inner_text()
    assert tip.is_visible() and last
    page.keyboard.press("ArrowLeft")
    assert tip.inner_text() != last
    page.keyboard.press("Home")
    first = tip.inner_text()
    assert page.locator("#app-acme-web-chart .point.active").count() == 1
    assert points.nth(0).get_attribute("class") == "point active", first


def test_app_and_edge_rows_draw_sparklines(page: Any, with_history: Server) -> None:
    login(page, with_history, "alice")
    spark = page.locator("#app-acme-web-spark svg.spark")
    assert spark.get_attribute("aria-label") == "last hour: peak 40"
    assert spark.locator("polyline").count() == 1
    edge = page.locator("#edge-acme-ssl-spark svg.spark")
    assert edge.get_attribute("aria-label") == "last hour: peak 40"
    page.goto(with_history.url + "/orgs/acme/")
    assert page.get_attribute("#app-acme-web-spark svg", "aria-label") == "last hour: peak 40"
    assert page.get_attribute("#edge-acme-ssl-spark svg", "aria-label") == "last hour: peak 40"


def test_a_live_panel_pushed_over_the_socket_keeps_its_sparklines(
    page: Any, browser: Any, with_history: Server
) -> None:
    login(page, with_history, "support")
    page.wait_for_selector("[ws-connect][data-live=live]")
    # The socket's snapshot has replaced the whole panel (a push carries no sparkline).
    spark = page.locator("#platform-live #edge-acme-ssl-spark svg.spark")
    assert spark.get_attribute("aria-label") == "last hour: peak 40"
    # Alice switches websockets on for acme-chat: its row is pushed, its sparkline stays.
    page.eval_on_selector("#app-acme-chat-spark", "cell => { cell.dataset.marked = 'yes'; }")
    assert page.locator("#app-acme-chat .badge.ok").count() == 0
    context = browser.new_context()
    try:
        alice = context.new_page()
        login(alice, with_history, "alice")
        alice.goto(with_history.url + "/apps/acme-chat/")
        alice.click("button[name=toggle][value='websockets:on']")
        alice.wait_for_selector("button[name=toggle][value='websockets:off']")
    finally:
        context.close()
    page.wait_for_selector("#app-acme-chat .badge.ok")
    assert page.get_attribute("#app-acme-chat-spark", "data-marked") == "yes"
    assert page.locator("#app-acme-chat-spark svg.spark").count() == 1
