"""Safe clicks and the app page Heroku users expect, in a real browser: a revoked token and a
removed back-end come back with Undo; a new token copies with one key press; custom domains are
added and removed from the app page."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import Server, login
from tests.e2e.test_accessibility import (  # the axe-core fixture and its reading
    axe_source,  # noqa: F401
    axe_violations,
    describe,
    failing,
)

pytestmark = pytest.mark.e2e


def api_status(server: Server, token: str) -> int:
    request = urllib.request.Request(
        server.url + "/account",
        headers={
            "Accept": "application/vnd.heroku+json; version=3",
            "Authorization": f"Bearer {token}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def create_token(page: Any, server: Server, label: str) -> str:
    page.goto(server.url + "/account/tokens/")
    page.fill("input[name=label]", label)
    page.click("text=Create token")
    return page.inner_text("#new-token-value").strip()


def test_a_revoked_token_is_brought_back_with_undo(page: Any, dashboard_server: Server) -> None:
    login(page, dashboard_server, "alice")
    raw = create_token(page, dashboard_server, "nightly export")
    assert api_status(dashboard_server, raw) == 200

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text="nightly export").locator("button", has_text="Revoke").click()
    undo = page.wait_for_selector("#token-undo")
    assert "Revoked the token" in undo.inner_text() and "(nightly export)" in undo.inner_text()
    assert api_status(dashboard_server, raw) == 401

    page.click("#token-undo button:has-text('Undo')")
    page.wait_for_selector(".messages >> text=(nightly export) works again.")
    row = page.locator("tr", has_text="nightly export")
    assert "revoked" not in row.inner_text()
    assert row.locator("button", has_text="Revoke").is_visible()
    # The same token, hash and all: the script using it works again.
    assert api_status(dashboard_server, raw) == 200


def test_the_copy_button_copies_the_new_token_from_the_keyboard(
    browser: Any, dashboard_server: Server
) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, dashboard_server, "bob")
        raw = create_token(page, dashboard_server, "laptop")
        button = page.locator("#new-token button[data-copy]")
        button.wait_for(state="visible")  # shown by the script: without it there is no button
        assert button.inner_text() == "Copy"

        button.focus()
        page.keyboard.press("Enter")

        page.wait_for_selector("#new-token .copy-status >> text=Copied to the clipboard.")
        assert button.inner_text() == "Copied"
        assert page.evaluate("() => navigator.clipboard.readText()") == raw
    finally:
        context.close()


def test_without_javascript_the_token_is_selectable_text_and_no_dead_button(
    browser: Any, dashboard_server: Server
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, dashboard_server, "bob")
        page.goto(dashboard_server.url + "/account/tokens/")
        page.fill("input[name=label]", "no script")
        page.click("text=Create token")
        assert page.inner_text("#new-token-value").startswith("pat_")
        assert not page.locator("#new-token button[data-copy]").is_visible()
    finally:
        context.close()


def remove_a_backend(page: Any, server: Server) -> str:
    """Support removes globex-live's first back-end from its page; answers its address."""
    login(page, server, "support")
    page.goto(server.url + "/apps/globex-live/")
    address: str = page.locator("#backends-panel tbody code").first.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#backends-panel button[aria-label='Remove {address}']")
    page.wait_for_selector(f"#backend-undo >> text=Removed {address}.")
    return address


def test_a_removed_backend_is_brought_back_with_undo(page: Any, dashboard_server: Server) -> None:
    address = remove_a_backend(page, dashboard_server)
    assert page.locator(f"#backends-panel tbody code >> text={address}").count() == 0

    page.click("#backend-undo button:has-text('Undo')")

    page.wait_for_selector(f"#backends-panel .callout.ok >> text=Brought back {address}")
    assert page.locator(f"#backends-panel tbody code >> text={address}").count() == 1
    assert page.url == dashboard_server.url + "/apps/globex-live/"  # swapped in by htmx


def test_an_undo_whose_time_is_up_leaves_the_page(page: Any, dashboard_server: Server) -> None:
    page.clock.install()  # the page's clock, moved on below; time flows as usual until then
    address = remove_a_backend(page, dashboard_server)
    assert page.locator("#backend-undo button:has-text('Undo')").is_visible()

    page.clock.fast_forward("05:01")

    page.wait_for_selector("#backend-undo >> text=The time to undo this has passed.")
    assert page.locator("#backend-undo button").count() == 0
    assert page.inner_text("#backend-undo").startswith(f"Removed {address}.")


def test_a_custom_domain_is_added_removed_and_brought_back_from_the_app_page(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "alice")
    page.goto(dashboard_server.url + "/apps/acme-api/")

    # Refused: the field keeps what was typed and says why beside it.
    page.fill("#domain-add-form input[name=hostname]", "www.acme.example")
    page.click("#domain-add-form button:has-text('Add domain')")
    error = page.wait_for_selector("#domain-add-error")
    assert error.inner_text() == "This domain is already in use by an app."
    assert page.input_value("#domain-add-form input[name=hostname]") == "www.acme.example"

    page.fill("#domain-add-form input[name=hostname]", "status.acme.example")
    page.click("#domain-add-form button:has-text('Add domain')")
    page.wait_for_selector("#domains-panel .callout.ok >> text=Added status.acme.example")
    assert page.locator("#domain-status-acme-example").is_visible()
    assert page.locator("#domain-add-error").count() == 0

    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.select_option("#domain-remove-form select[name=hostname]", "status.acme.example")
    page.click("#domain-remove-form button:has-text('Remove domain')")
    page.wait_for_selector("#domains-panel .callout.ok >> text=Removed status.acme.example")
    assert asked[0].startswith("Remove status.acme.example from acme-api? The edges stop answering")
    assert "{hostname}" not in asked[0]
    assert page.locator("#domain-status-acme-example").count() == 0
    assert page.url == dashboard_server.url + "/apps/acme-api/"

    # Undone: the same domain is back in the table.
    page.click("#domain-undo button:has-text('Undo')")
    page.wait_for_selector("#domains-panel .callout.ok >> text=Brought back status.acme.example")
    assert page.locator("#domain-status-acme-example").is_visible()


def test_the_jump_links_move_to_their_sections(page: Any, dashboard_server: Server) -> None:
    login(page, dashboard_server, "bob")
    page.goto(dashboard_server.url + "/apps/acme-web/")
    page.click(".jump-links a:has-text('Collaborators')")
    page.wait_for_url("**/apps/acme-web/#collaborators")
    assert page.locator("#collaborators").is_visible()
    assert "alice" in page.inner_text("#collaborators")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_what_the_safe_clicks_show_has_no_serious_accessibility_violation(
    browser: Any,
    dashboard_server: Server,
    axe_source: str,  # noqa: F811 (the fixture imported above)
    theme: str,
) -> None:
    """The states the pages' own sweep does not reach: a new token with its copy button, the
    undo of a revocation and of a removal, a refused domain beside its field."""
    context = browser.new_context(color_scheme=theme)
    page = context.new_page()
    page.set_default_timeout(15_000)
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        login(page, dashboard_server, "support")
        create_token(page, dashboard_server, f"axe {theme}")
        page.wait_for_selector("#new-token button[data-copy]")
        found["new token"] = failing(axe_violations(page, axe_source))
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("tr", has_text=f"axe {theme}").locator("button", has_text="Revoke").click()
        page.wait_for_selector("#token-undo")
        found["token undo"] = failing(axe_violations(page, axe_source))

        page.goto(dashboard_server.url + "/apps/acme-chat/")
        page.fill("#domain-add-form input[name=hostname]", "not a hostname")
        page.click("#domain-add-form button:has-text('Add domain')")
        page.wait_for_selector("#domain-add-error")
        address = page.locator("#backends-panel tbody code").first.inner_text()
        page.once("dialog", lambda dialog: dialog.accept())
        page.click(f"#backends-panel button[aria-label='Remove {address}']")
        page.wait_for_selector("#backend-undo")
        found["app page"] = failing(axe_violations(page, axe_source))
    finally:
        context.close()
    assert not any(found.values()), describe(found)


def test_a_domain_added_on_one_page_is_pushed_to_another_which_can_remove_it(
    browser: Any, dashboard_server: Server
) -> None:
    pages = []
    try:
        for who in ("alice", "bob"):
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(10_000)
            login(page, dashboard_server, who)
            page.goto(dashboard_server.url + "/apps/acme-chat/")
            page.wait_for_selector("[ws-connect][data-live=live]")
            pages.append(page)
        alice, bob = pages
        bob.fill("#domain-add-form input[name=hostname]", "half-typed")

        alice.fill("#domain-add-form input[name=hostname]", "push.acme.example")
        alice.click("#domain-add-form button:has-text('Add domain')")

        # Pushed into Bob's page, his draft kept; the pushed form carries his own CSRF token.
        bob.wait_for_selector("#domain-push-acme-example")
        assert bob.input_value("#domain-add-form input[name=hostname]") == "half-typed"
        bob.once("dialog", lambda dialog: dialog.accept())
        bob.select_option("#domain-remove-form select[name=hostname]", "push.acme.example")
        bob.click("#domain-remove-form button:has-text('Remove domain')")
        bob.wait_for_selector("#domains-panel .callout.ok >> text=Removed push.acme.example")
        alice.wait_for_selector("#domain-push-acme-example", state="detached")
    finally:
        for page in pages:
            page.context.close()
