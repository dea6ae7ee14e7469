from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, login
from tests.factories import future_window

pytestmark = pytest.mark.e2e


def logout(page: Any) -> None:
    page.click("text=Sign out")
    page.wait_for_url("**/login/")


def test_alice_requests_the_upgrade_support_completes_it_and_websockets_can_be_enabled(
    page: Any, dashboard_server: Server
) -> None:
    url = dashboard_server.url
    login(page, dashboard_server, "alice")
    page.goto(url + "/apps/acme-web/")
    page.click("#app-acme-web-feature-websockets button.switch")
    page.wait_for_selector("#app-acme-web-feature-websockets-error")
    page.click("#app-acme-web-feature-websockets-error >> text=Request a WebSocket upgrade")
    page.wait_for_url("**/edges/acme-ssl/*")
    page.fill("textarea[name=note]", "Weekends are quiet for us")
    page.click("#request-upgrade")
    page.wait_for_selector("#upgrade-state")
    assert page.get_attribute("#upgrade-state", "data-state") == "requested"
    assert page.locator("#upgrade-start").count() == 0
    page.goto(url + "/apps/acme-web/")
    page.click("#app-acme-web-feature-websockets button.switch")
    refusal = page.inner_text("#app-acme-web-feature-websockets-error")
    assert "support will schedule a window" in refusal
    assert "Request a WebSocket upgrade" not in refusal
    logout(page)

    login(page, dashboard_server, "support")
    page.goto(url + "/upgrades/")
    page.click("table >> text=acme-ssl")
    window = future_window()
    page.fill("#upgrade-schedule input[data-utc-input]", f"{window:%Y-%m-%dT%H:%M}")
    page.click("#upgrade-schedule button")
    page.wait_for_selector("#upgrade-state[data-state=scheduled]")
    page.click("#upgrade-start button")
    # The window has not come: the page asks before starting.
    page.wait_for_selector("#upgrade-confirm-start")
    assert page.get_attribute("#upgrade-state", "data-state") == "scheduled"
    page.click("#confirm-early-start")
    page.wait_for_selector("#upgrade-state[data-state=in_progress]")
    page.click("#upgrade-complete button")
    page.wait_for_selector(".callout.ok")
    assert "carries WebSockets" in page.inner_text(".page-head")
    logout(page)

    login(page, dashboard_server, "alice")
    page.goto(url + "/apps/acme-web/")
    page.click("#app-acme-web-feature-websockets button.switch")
    page.wait_for_selector("#features-panel .callout.ok")
    assert page.inner_text("#features-panel .callout.ok") == "Enabled websockets for acme-web."
    assert (
        page.get_attribute("#app-acme-web-feature-websockets button.switch", "aria-checked")
        == "true"
    )


def test_the_websocket_test_page_logs_an_echo_from_the_dashboard(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "carol")
    page.goto(dashboard_server.url + "/apps/globex-store/websocket-test/")
    page.click("#ws-test-echo")
    page.click("#ws-test-open")
    page.wait_for_selector("#ws-test-log [data-event=message]")
    events = page.eval_on_selector_all(
        "#ws-test-log li", "items => items.map(i => i.dataset.event)"
    )
    assert events[:4] == ["connecting", "open", "sent", "message"]
    assert page.inner_text("#ws-test-log [data-event=message]").endswith("hello server")
