"""Security headers on every page: a Content Security Policy with nothing inline."""

from __future__ import annotations

import re

from django.contrib.auth.models import User

from tests.conftest import World, client_for


def test_pages_carry_a_csp_that_allows_only_our_own_scripts_and_styles(
    world: World, alice: User
) -> None:
    response = client_for(alice).get("/apps/acme-web/")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    html = response.content.decode()
    # Nothing the policy would block: no inline script, no style attribute or element.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_login_page_and_api_answers_carry_it_too(world: World) -> None:
    assert "script-src 'self'" in client_for(None).get("/login/")["Content-Security-Policy"]


def test_only_the_websocket_test_page_may_open_sockets_to_other_origins(
    world: World, alice: User
) -> None:
    response = client_for(alice).get("/apps/acme-web/websocket-test/")
    assert "connect-src 'self' ws: wss:" in response["Content-Security-Policy"]
    assert "script-src 'self';" in response["Content-Security-Policy"]
