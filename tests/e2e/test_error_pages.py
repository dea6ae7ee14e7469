"""With production settings (DJANGO_DEBUG=0) a missing page is the product's own 404, with the
header, the favicon and a way back; only the redirect to HTTPS is off (no TLS on loopback)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e


def test_a_missing_page_is_the_products_404_with_a_way_back(
    page: Any, production_server: Server
) -> None:
    response = page.goto(production_server.url + "/no/such/page/")
    assert response.status == 404
    assert page.inner_text("h1") == "Nothing here"
    assert "Page not found" not in page.content()  # not Django's technical page
    assert page.locator(".topbar .brand").is_visible()
    icon = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(production_server.url + icon).status == 200
    page.click("text=Sign in")
    page.wait_for_url("**/login/**")

    login(page, production_server, "carol")
    response = page.goto(production_server.url + "/apps/acme-web/")  # acme's, not globex's
    assert response.status == 404
    assert page.locator(".topnav >> text=Overview").is_visible()
    page.click("text=Back to the overview")
    page.wait_for_url(production_server.url + "/")
    assert "globex-store" in page.inner_text("main")
