from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e

REFUSAL = "Can not add websockets feature when ssl-endpoint is in use."


def switch(page: Any, app: str, feature: str = "websockets") -> Any:
    return page.locator(f"#app-{app}-feature-{feature} button.switch")


def test_alice_enables_websockets_and_meets_the_refusal_behind_acme_ssl(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "alice")
    page.goto(dashboard_server.url + "/apps/acme-chat/")
    assert switch(page, "acme-chat").get_attribute("aria-checked") == "false"
    switch(page, "acme-chat").click()
    page.wait_for_selector("#features-panel .callout.ok")
    assert page.inner_text("#features-panel .callout.ok") == "Enabled websockets for acme-chat."
    assert switch(page, "acme-chat").get_attribute("aria-checked") == "true"
    assert "enabled websockets on" in page.inner_text("#app-activity")
    # htmx swapped the panel in place: no navigation happened.
    assert page.url == dashboard_server.url + "/apps/acme-chat/"

    page.goto(dashboard_server.url + "/apps/acme-web/")
    switch(page, "acme-web").click()
    refusal = page.wait_for_selector("#app-acme-web-feature-websockets-error")
    assert REFUSAL in refusal.inner_text()
    page.click("#app-acme-web-feature-websockets-error >> text=Request a WebSocket upgrade")
    page.wait_for_url("**/edges/acme-ssl/*")

    # Leave the shared demo as it was.
    page.goto(dashboard_server.url + "/apps/acme-chat/")
    switch(page, "acme-chat").click()
    page.wait_for_function(
        "() => document.querySelector('#app-acme-chat-feature-websockets button.switch')"
        ".getAttribute('aria-checked') === 'false'"
    )


def test_the_switch_works_without_javascript(browser: Any, dashboard_server: Server) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, dashboard_server, "alice")
        page.goto(dashboard_server.url + "/apps/acme-chat/")
        switch(page, "acme-chat").click()
        page.wait_for_url("**/apps/acme-chat/#features")
        assert "Enabled websockets for acme-chat." in page.inner_text(".messages")
        switch(page, "acme-chat").click()
        page.wait_for_url("**/apps/acme-chat/#features")
        assert "Disabled websockets for acme-chat." in page.inner_text(".messages")
    finally:
        context.close()


def test_support_must_give_a_reason_in_the_panel(page: Any, dashboard_server: Server) -> None:
    login(page, dashboard_server, "support")
    page.goto(dashboard_server.url + "/apps/globex-live/")
    switch(page, "globex-live").click()
    page.wait_for_selector(".reason-field .field-error")
    assert "Support staff must give a reason" in page.inner_text(".reason-field")
    page.fill("input[name=reason]", "ticket 1234: load test")
    switch(page, "globex-live").click()
    page.wait_for_selector("#features-panel .callout.ok")
    assert "ticket 1234: load test" in page.inner_text("#app-activity")
    page.fill("input[name=reason]", "ticket 1234: done")
    switch(page, "globex-live").click()
    page.wait_for_function(
        "() => document.querySelector('#app-globex-live-feature-websockets button.switch')"
        ".getAttribute('aria-checked') === 'true'"
    )


def test_support_reasons_reach_an_open_customer_page_only_when_shared(
    browser: Any, page: Any, dashboard_server: Server
) -> None:
    context = browser.new_context()
    customer = context.new_page()
    try:
        login(customer, dashboard_server, "alice")
        customer.goto(dashboard_server.url + "/apps/acme-api/")
        customer.wait_for_selector("[ws-connect][data-live=live]")

        login(page, dashboard_server, "support")
        page.goto(dashboard_server.url + "/apps/acme-api/")
        page.fill("input[name=reason]", "ticket 77: internal suspicion of abuse")
        switch(page, "acme-api", "router-debug-headers").click()
        page.wait_for_selector("#features-panel .callout.ok")
        assert "internal suspicion" in page.inner_text("#app-activity")

        # Pushed to alice's open page: she reads that support switched it, not why.
        customer.wait_for_function(
            "() => document.querySelector('#app-activity').textContent"
            ".includes('enabled router-debug-headers on')"
        )
        assert "internal suspicion" not in customer.inner_text("#features-panel")

        page.fill("input[name=reason]", "ticket 78: off again after your load test")
        page.check("input[name=reason_shared]")
        switch(page, "acme-api", "router-debug-headers").click()
        customer.wait_for_function(
            "() => document.querySelector('#app-activity').textContent"
            ".includes('off again after your load test')"
        )
        assert "internal suspicion" not in customer.inner_text("#features-panel")
    finally:
        context.close()
