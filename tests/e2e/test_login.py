from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e


def test_alice_signs_in_and_sees_her_apps_only(page: Any, dashboard_server: Server) -> None:
    login(page, dashboard_server, "alice")
    assert page.locator("h1").inner_text() == "Your apps"
    names = set(page.locator("#results tbody tr[id^=app-] a strong").all_inner_texts())
    acme_apps = {a["name"] for a in dashboard_server.demo["apps"] if a["org"] == "acme"}
    assert names == acme_apps
    assert "globex" not in page.content()


def test_alice_follows_her_app_to_the_legacy_edge(page: Any, dashboard_server: Server) -> None:
    login(page, dashboard_server, "alice")
    page.click("#app-acme-web a >> text=acme-web")
    page.wait_for_url("**/apps/acme-web/")
    assert "acme-ssl cannot carry WebSockets." in page.inner_text(".callout")
    page.click(".callout a")
    page.wait_for_url("**/edges/acme-ssl/")
    assert page.locator("#capability-nginx_legacy").get_attribute("aria-current") == "true"


def test_a_wrong_password_keeps_the_visitor_on_the_login_page(
    page: Any, dashboard_server: Server
) -> None:
    page.goto(dashboard_server.url + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not-her-password")
    page.click("button[type=submit]")
    assert "Please enter a correct username and password" in page.inner_text("[role=alert]")


def test_staff_search_narrows_the_app_list_as_they_type(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "support")
    page.fill("input[name=q]", "shop.globex")
    page.wait_for_function(
        "() => document.querySelectorAll('#results tbody tr[id^=app-]').length === 1"
    )
    assert page.locator("#results tbody tr[id^=app-]").get_attribute("id") == "app-globex-store"
    assert "q=shop.globex" in page.url


def test_the_live_socket_origin_check_lets_the_dashboard_page_connect(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "alice")
    echoed = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws/echo/');
            ws.onopen = () => ws.send('hello server');
            ws.onmessage = (event) => { resolve(event.data); ws.close(); };
            ws.onerror = () => reject('error');
            setTimeout(() => reject('timeout'), 5000);
        })"""
    )
    assert echoed == "hello server"
