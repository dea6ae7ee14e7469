"""Destructive actions ask first: a dialog naming what will happen, with JavaScript (htmx forms
too); the same question on the page without."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e


def test_revoking_a_token_asks_in_a_dialog_and_keeps_it_when_dismissed(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "alice")
    page.goto(dashboard_server.url + "/account/tokens/")
    page.fill("input[name=label]", "nightly export")
    page.click("text=Create token")
    row = page.locator("tr", has_text="nightly export")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.locator("button", has_text="Revoke").click()
    page.wait_for_timeout(300)
    assert "(nightly export)? Scripts and the Heroku CLI using it get 401" in asked[0]
    assert row.locator("button", has_text="Revoke").is_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="Revoke").click()
    page.wait_for_selector("text=Revoked the token")
    assert "revoked" in page.locator("tr", has_text="nightly export").inner_text()


def test_removing_a_backend_asks_in_a_dialog_before_htmx_sends_it(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "support")
    page.goto(dashboard_server.url + "/apps/acme-chat/")
    address = page.locator("#backends-panel tbody code").first.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#backends-panel button[aria-label='Remove {address}']")
    page.wait_for_selector(f"#backends-panel .callout.ok >> text=Removed {address}")
    assert page.locator("#confirm-remove").count() == 0  # the dialog was the question
    assert page.url == dashboard_server.url + "/apps/acme-chat/"  # swapped in by htmx


def test_without_javascript_the_page_asks(browser: Any, dashboard_server: Server) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, dashboard_server, "support")
        page.goto(dashboard_server.url + "/apps/acme-api/")
        address = page.locator("#backends-panel tbody code").first.inner_text()
        page.click(f"#backends-panel button[aria-label='Remove {address}']")
        question = page.wait_for_selector("#confirm-remove")
        assert f"Remove the back-end {address} from acme-api?" in question.inner_text()
        assert page.locator(f"#backends-panel code >> text={address}").count() == 1
        page.click(f"#confirm-remove >> text=Remove {address}")
        page.wait_for_selector(f"#backend-undo >> text=Removed {address}")
        assert page.locator(f"#backends-panel code >> text={address}").count() == 0
    finally:
        context.close()
