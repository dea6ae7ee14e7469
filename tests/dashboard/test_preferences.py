"""The theme each user chooses, kept on the server and put on <html> before anything paints."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from dashboard.models import Preferences
from dashboard.services.preferences import preferences_set_theme
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_new_user_follows_the_system(alice: User) -> None:
    page = client_for(alice).get("/").content.decode()
    assert '<html lang="en" data-theme="system">' in page
    assert 'value="system" aria-pressed="true"' in page


def test_alice_chooses_dark_and_every_page_opens_dark(alice: User) -> None:
    client = client_for(alice)
    response = client.post("/account/theme/", {"theme": "dark", "next": "/audit/?org=acme"})
    assert response.status_code == 302 and response["Location"] == "/audit/?org=acme"
    assert Preferences.objects.get(user=alice).theme == "dark"
    for path in ("/", "/apps/acme-web/", "/account/tokens/"):
        page = client.get(path).content.decode()
        assert '<html lang="en" data-theme="dark">' in page
        assert 'value="dark" aria-pressed="true"' in page


def test_one_users_theme_is_not_anothers(alice: User, bob: User) -> None:
    client_for(alice).post("/account/theme/", {"theme": "light"})
    assert 'data-theme="system"' in client_for(bob).get("/").content.decode()


def test_an_unknown_theme_changes_nothing_and_says_so(alice: User) -> None:
    client = client_for(alice)
    client.post("/account/theme/", {"theme": "dark"})
    response = client.post("/account/theme/", {"theme": "neon"}, follow=True)
    assert Preferences.objects.get(user=alice).theme == "dark"
    assert "Choose one of: system, light, dark." in response.content.decode()


def test_the_switch_goes_back_to_the_page_it_was_pressed_on(alice: User) -> None:
    response = client_for(alice).post(
        "/account/theme/", {"theme": "dark"}, headers={"Referer": "http://testserver/audit/"}
    )
    assert response["Location"] == "http://testserver/audit/"


def test_the_way_back_stays_on_the_dashboard(alice: User) -> None:
    response = client_for(alice).post(
        "/account/theme/", {"theme": "dark", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_choosing_a_theme_needs_the_csrf_token(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/account/theme/", {"theme": "dark"}).status_code == 403
    assert not Preferences.objects.filter(user=alice).exists()


def test_anonymous_visitors_are_sent_to_sign_in(world: object) -> None:
    response = Client().post("/account/theme/", {"theme": "dark"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Preferences.objects.exists()


def test_nobody_chooses_anothers_theme(alice: User, support: User) -> None:
    with pytest.raises(PermissionDenied):
        preferences_set_theme(user=alice, theme="dark", actor=support, source="web")
    with pytest.raises(ValidationError):
        preferences_set_theme(user=alice, theme="", actor=alice, source="web")
    assert not Preferences.objects.exists()
