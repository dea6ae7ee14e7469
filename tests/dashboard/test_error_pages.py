"""The product's own 404 and 403 pages: the header, what happened, a way back. (The API answers
JSON errors: tests/dashboard/test_api*.py.)"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.views.defaults import permission_denied

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_page_alice_may_not_see_is_the_products_404(alice: User) -> None:
    response = client_for(alice).get("/apps/globex-store/")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'class="topbar"' in page and ">API tokens</a>" in page  # the header, signed in
    assert '<a class="button" href="/">Back to the overview</a>' in page
    assert 'rel="icon" href="/static/img/favicon.svg"' in page


def test_an_unknown_path_is_the_products_404_before_sign_in(world: object) -> None:
    response = Client().get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Nothing here" in page and 'href="/login/">Sign in</a>' in page


def test_the_api_still_answers_json_for_an_unknown_path(alice: User) -> None:
    response = client_for(alice).get(
        "/apps/globex-store/", HTTP_ACCEPT="application/vnd.heroku+json; version=3"
    )
    assert response.status_code == 404
    assert response.json()["id"] == "not_found"


def test_a_refusal_is_the_products_403(alice: User) -> None:
    request = RequestFactory().get("/somewhere/")
    request.user = alice
    response = permission_denied(request, PermissionDenied())
    page = response.content.decode()
    assert response.status_code == 403
    assert "You may not do that" in page and "Back to the overview" in page
    assert 'class="topbar"' in page


def test_a_form_sent_without_its_token_says_it_expired(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/account/theme/", {"theme": "dark"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
