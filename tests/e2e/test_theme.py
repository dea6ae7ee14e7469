"""The dark theme: the system's by default, or the one the user chose in the header, kept on the
server so it holds across pages, reloads and devices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e

LIGHT = "rgb(244, 246, 249)"
DARK = "rgb(16, 20, 27)"


def background(page: Any) -> str:
    return page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")


@pytest.fixture
def open_in(browser: Any) -> Iterator[Any]:
    contexts = []

    def open_page(scheme: str) -> Any:
        context = browser.new_context(color_scheme=scheme)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_the_theme_follows_the_system_until_the_user_chooses(
    open_in: Any, dashboard_server: Server
) -> None:
    dark_system = open_in("dark")
    login(dark_system, dashboard_server, "bob")
    assert dark_system.get_attribute("html", "data-theme") == "system"
    assert background(dark_system) == DARK
    light_system = open_in("light")
    login(light_system, dashboard_server, "bob")
    assert background(light_system) == LIGHT

    # Bob chooses light on the dark machine: it stays light there, page after page.
    dark_system.goto(dashboard_server.url + "/apps/acme-web/")
    dark_system.click(".theme-switch button[value=light]")
    dark_system.wait_for_url("**/apps/acme-web/")
    assert background(dark_system) == LIGHT
    assert dark_system.get_attribute(".theme-switch button[value=light]", "aria-pressed") == "true"
    dark_system.reload()
    assert background(dark_system) == LIGHT

    # Dark, chosen on the light machine, is what the other one gets on its next page too.
    light_system.click(".theme-switch button[value=dark]")
    light_system.wait_for_load_state()
    assert background(light_system) == DARK
    dark_system.goto(dashboard_server.url + "/audit/")
    assert dark_system.get_attribute("html", "data-theme") == "dark"
    assert background(dark_system) == DARK

    # Back to the system's.
    light_system.click(".theme-switch button[value=system]")
    light_system.wait_for_load_state()
    assert light_system.get_attribute("html", "data-theme") == "system"
    assert background(light_system) == LIGHT
