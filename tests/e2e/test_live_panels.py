"""Two browsers on one app page: what one changes shows in the other without a reload, and a
push never takes a draft from under the user's hands."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e

PAGE = "/apps/acme-api/"
REQUEST_IDS = "#app-acme-api-feature-http-request-id"
WEBSOCKETS = "#app-acme-api-feature-websockets"


def open_tabs(browser: Any, server: Server, usernames: list[str], path: str) -> list[Any]:
    """A browser context per user (each signed in), on `path` with its socket live."""
    tabs = []
    for username in usernames:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, server, username)
        page.goto(server.url + path)
        page.wait_for_selector("[ws-connect][data-live=live]")
        tabs.append(page)
    return tabs


def switch_is(row: str, enabled: bool) -> str:
    value = "true" if enabled else "false"
    return f"() => document.querySelector('{row} .switch-cell').dataset.enabled === '{value}'"


def test_a_switch_flipped_in_one_browser_shows_in_the_other_and_keeps_its_draft(
    browser: Any, dashboard_server: Server
) -> None:
    alice, support = open_tabs(browser, dashboard_server, ["alice", "support"], PAGE)
    pages = {"alice": alice, "support": support}
    request_ids_on = alice.locator(f"{REQUEST_IDS} .switch-cell").get_attribute("data-enabled")

    # Support is typing a reason to share when alice switches one of her own features.
    reason = support.locator('#features-form input[name="reason"]')
    support.check('#features-form input[name="reason_shared"]')
    reason.click()
    reason.press_sequentially("ticket #4821: customer asked")
    alice.click(f"{REQUEST_IDS} button.switch")
    support.wait_for_function(switch_is(REQUEST_IDS, request_ids_on != "true"), timeout=5000)

    assert reason.input_value() == "ticket #4821: customer asked"
    assert support.locator('#features-form input[name="reason_shared"]').is_checked()
    assert support.evaluate("document.activeElement.name") == "reason"
    note = support.locator("#features-form .draft-note")
    assert note.is_visible() and "changed while you were typing" in note.inner_text()

    # The pushed form works as the page's own did (its CSRF token is the page's): support turns
    # websockets off with the kept reason, and alice's page shows it, readiness included.
    support.click(f"{WEBSOCKETS} button.switch")
    alice.wait_for_function(switch_is(WEBSOCKETS, False), timeout=5000)
    support.wait_for_function(switch_is(WEBSOCKETS, False), timeout=5000)
    alice.wait_for_function(
        "() => document.getElementById('readiness').textContent.includes('feature is off')",
        timeout=5000,
    )
    # The activity under the switches, pushed too, carries support's reason, shared with the
    # customer (tests/e2e/test_features.py: one that is not stays on support's pages).
    assert "ticket #4821" in alice.locator("#app-activity").inner_text()
    for page in pages.values():
        page.context.close()


def test_the_answer_to_the_users_own_action_stays_when_a_push_arrives(
    browser: Any, dashboard_server: Server
) -> None:
    first, second = open_tabs(browser, dashboard_server, ["alice", "alice"], "/apps/acme-web/")
    tabs = [first, second]
    row = "#app-acme-web-feature-http-request-id"
    before = first.locator(f"{row} .switch-cell").get_attribute("data-enabled")

    # Refused: acme-web's custom domain goes through a legacy Nginx edge.
    first.click("#app-acme-web-feature-websockets button.switch")
    first.wait_for_selector("#app-acme-web-feature-websockets-error")
    # A change from the other tab is pushed to the first one.
    second.click(f"{row} button.switch")
    first.wait_for_function(switch_is(row, before != "true"), timeout=5000)

    refusal = first.locator("#app-acme-web-feature-websockets-error")
    assert refusal.is_visible() and "Request a WebSocket upgrade" in refusal.inner_text()
    for page in tabs:
        page.context.close()


def test_a_panel_whose_form_is_being_answered_is_not_replaced_by_a_push(
    browser: Any, dashboard_server: Server
) -> None:
    first, second = open_tabs(browser, dashboard_server, ["alice", "alice"], "/apps/acme-web/")
    tabs = [first, second]
    row = "#app-acme-web-feature-log-runtime-metrics"
    before = first.locator(f"{row} .switch-cell").get_attribute("data-enabled")
    # The features form of the first tab has a request in flight (htmx marks it so), and the
    # panel is marked to tell whether it was replaced.
    first.evaluate(
        "() => { document.getElementById('features-form').classList.add('htmx-request');"
        " document.getElementById('features-panel').dataset.original = 'yes';"
        " window.pushedFeatures = 0;"
        " document.addEventListener('htmx:oobBeforeSwap', (event) => {"
        "   if (event.detail.target.id === 'features-panel') window.pushedFeatures += 1; }); }"
    )
    second.click(f"{row} button.switch")
    second.wait_for_function(switch_is(row, before != "true"), timeout=5000)
    # The push reached the first tab's features panel...
    first.wait_for_function("() => window.pushedFeatures > 0", timeout=5000)

    assert first.evaluate("() => document.getElementById('features-panel').dataset.original")
    # Once the answer is in, pushes apply again.
    first.evaluate(
        "() => document.getElementById('features-form').classList.remove('htmx-request')"
    )
    second.click(f"{row} button.switch")
    first.wait_for_function(switch_is(row, before == "true"), timeout=5000)
    for page in tabs:
        page.context.close()
