"""A live push landing while someone is in the middle of an action on the same panel: the
action goes through, and the push is not lost either."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, login
from tests.e2e.test_live_panels import open_tabs

pytestmark = pytest.mark.e2e

APP = "/apps/acme-chat/"


@pytest.fixture
def pages(browser: Any, dashboard_server: Server) -> Iterator[tuple[Any, Any, Any]]:
    """Three live pages of one app: Alice's, who acts; Bob's, who changes the panel under her;
    and another of Bob's, which shows when the push has gone out (to every page at once)."""
    tabs = open_tabs(browser, dashboard_server, ["alice", "bob", "bob"], APP)
    try:
        yield tabs[0], tabs[1], tabs[2]
    finally:
        for tab in tabs:
            tab.context.close()


def add_domain(page: Any, hostname: str, pushed_to: Any | None = None) -> None:
    page.fill("#domain-add-form input[name=hostname]", hostname)
    page.click("#domain-add-form button:has-text('Add domain')")
    page.wait_for_selector(f"#domains-panel .callout.ok >> text=Added {hostname}")
    if pushed_to is not None:
        pushed_to.wait_for_selector(dom_id(hostname))


def dom_id(hostname: str) -> str:
    return "#domain-" + hostname.split(".")[0] + "-acme-example"


def test_a_removal_confirmed_while_a_push_came_in_is_still_sent(
    pages: tuple[Any, Any, Any],
) -> None:
    alice, bob, witness = pages
    add_domain(alice, "old.acme.example", pushed_to=witness)

    def answer_after_a_push(dialog: Any) -> None:
        # While Alice's dialog is open, Bob changes the panel: the push has reached her page
        # before she says yes.
        add_domain(bob, "new.acme.example", pushed_to=witness)
        dialog.accept()

    alice.once("dialog", answer_after_a_push)
    alice.select_option("#domain-remove-form select[name=hostname]", "old.acme.example")
    alice.click("#domain-remove-form button:has-text('Remove domain')")

    alice.wait_for_selector("#domains-panel .callout.ok >> text=Removed old.acme.example")
    assert alice.locator(dom_id("old.acme.example")).count() == 0
    assert alice.locator(dom_id("new.acme.example")).count() == 1  # the answer is current
    bob.wait_for_selector(dom_id("old.acme.example"), state="detached")


def test_a_push_between_press_and_release_neither_eats_the_click_nor_is_lost(
    pages: tuple[Any, Any, Any],
) -> None:
    alice, bob, witness = pages
    alice.fill("#domain-add-form input[name=hostname]", "pressed.acme.example")
    button = alice.locator("#domain-add-form button:has-text('Add domain')").bounding_box()
    alice.mouse.move(button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
    alice.mouse.down()
    add_domain(bob, "meanwhile.acme.example", pushed_to=witness)  # while her button is down
    alice.mouse.up()

    alice.wait_for_selector("#domains-panel .callout.ok >> text=Added pressed.acme.example")
    assert alice.locator(dom_id("meanwhile.acme.example")).count() == 1

    # A press that sends nothing (on the panel's text): the held push goes in at the release.
    heading = alice.locator("#domains-panel h2").bounding_box()
    alice.mouse.move(heading["x"] + 5, heading["y"] + heading["height"] / 2)
    alice.mouse.down()
    add_domain(bob, "later.acme.example", pushed_to=witness)
    assert alice.locator(dom_id("later.acme.example")).count() == 0  # held while pressed
    alice.mouse.up()
    alice.wait_for_selector(dom_id("later.acme.example"))
    assert alice.input_value("#domain-add-form input[name=hostname]") == ""


def test_the_view_pushed_when_the_socket_joins_leaves_unchanged_panels_in_place(
    browser: Any, dashboard_server: Server
) -> None:
    """Every socket gets its whole view when it joins, just after the page loaded: panels the
    page already shows as they are stay the very same elements, so nothing the reader started
    in them (a half-typed entry, a pressed button) is reset and no "this panel changed" note
    appears; a panel that did change since the page was rendered is swapped in."""
    context = browser.new_context()
    try:
        page = context.new_page()
        login(page, dashboard_server, "alice")
        # The socket is held back until the page has been looked at and typed into.
        sockets: list[Any] = []
        page.route_web_socket("**/ws/live/**", lambda socket: sockets.append(socket))
        page.goto(dashboard_server.url + APP)
        page.fill("#domain-add-form input[name=hostname]", "typing.acme.example")
        page.evaluate("window.shown = document.getElementById('domains-panel')")
        assert len(sockets) == 1
        sockets[0].connect_to_server()
        page.wait_for_selector("[ws-connect][data-live=live]")
        assert page.evaluate("window.shown === document.getElementById('domains-panel')")
        assert page.locator(".draft-note").count() == 0
        assert page.input_value("#domain-add-form input[name=hostname]") == "typing.acme.example"
    finally:
        context.close()
