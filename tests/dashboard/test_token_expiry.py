"""A token may be given an expiry when it is created (never, 30 or 90 days, or the end of a
date): once past it, the API refuses it exactly as it refuses an unknown token, and the token
page shows it expired."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from dashboard.models import ApiToken, AuditEvent
from dashboard.services.tokens import api_token_create, token_expiry
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ACCEPT = "application/vnd.heroku+json; version=3"
NOW = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def api_get(raw: str) -> Any:
    headers = {"Accept": ACCEPT, "Authorization": f"Bearer {raw}"}
    return Client().get("/account", headers=headers)


def expire(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))


@pytest.mark.parametrize(
    ("choice", "date", "expected"),
    [
        ("never", "", None),
        ("30", "", NOW + dt.timedelta(days=30)),
        ("90", "", NOW + dt.timedelta(days=90)),
        ("date", "2027-03-31", dt.datetime(2027, 4, 1, tzinfo=dt.UTC)),
        ("date", "2026-12-01", dt.datetime(2026, 12, 2, tzinfo=dt.UTC)),
    ],
)
def test_the_expiry_choices_read_as_moments(
    choice: str, date: str, expected: dt.datetime | None
) -> None:
    assert token_expiry(choice, date, now=NOW) == expected


@pytest.mark.parametrize(
    ("choice", "date", "message"),
    [
        ("date", "2026-11-30", "Choose a date from today on."),
        ("date", "", "Give the expiry date as YYYY-MM-DD."),
        ("date", "31/03/2027", "Give the expiry date as YYYY-MM-DD."),
        ("7", "", "Choose when the token expires."),
    ],
)
def test_an_expiry_in_the_past_or_unreadable_is_refused(
    choice: str, date: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        token_expiry(choice, date, now=NOW)
    assert refused.value.messages == [message]


def test_an_expired_token_gets_the_same_401_as_an_unknown_one(alice: User) -> None:
    token, raw = api_token_create(
        user=alice,
        label="ci",
        expires_at=timezone.now() + dt.timedelta(days=30),
        actor=alice,
        source="web",
    )
    assert api_get(raw).status_code == 200

    expire(token)
    expired, unknown = api_get(raw), api_get("pat_" + "x" * 43)

    assert expired.status_code == unknown.status_code == 401
    assert expired.json() == unknown.json()
    assert expired["WWW-Authenticate"] == unknown["WWW-Authenticate"]


def test_a_token_without_expiry_keeps_working(alice: User) -> None:
    token, raw = api_token_create(user=alice, label="forever", actor=alice, source="web")
    assert token.expires_at is None and api_get(raw).status_code == 200


def test_the_service_refuses_a_token_that_would_be_born_expired(alice: User) -> None:
    with pytest.raises(ValidationError):
        api_token_create(
            user=alice,
            label="late",
            expires_at=timezone.now() - dt.timedelta(minutes=1),
            actor=alice,
            source="web",
        )
    assert not ApiToken.objects.exists()


def test_creating_a_token_with_an_expiry_from_the_page(alice: User) -> None:
    response = client_for(alice).post("/account/tokens/", {"label": "ci", "expires": "90"})

    assert response.status_code == 201
    token = ApiToken.objects.get(label="ci")
    left = token.expires_at - timezone.now()
    assert dt.timedelta(days=89, hours=23) < left <= dt.timedelta(days=90)
    row = AuditEvent.objects.get(action="api_token.create")
    assert row.after["expires_at"] == token.expires_at.isoformat()


def test_a_bad_date_is_shown_beside_the_field_with_what_was_typed(alice: User) -> None:
    response = client_for(alice).post(
        "/account/tokens/",
        {"label": "nightly export", "expires": "date", "expires_on": "2020-01-01"},
    )

    assert response.status_code == 422
    page = text(response)
    assert '<span class="field-error" role="alert">Choose a date from today on.</span>' in page
    assert 'value="nightly export"' in page and 'value="2020-01-01"' in page
    assert 'value="date" id="expires-date" checked' in page
    assert not ApiToken.objects.exists()


def test_the_list_shows_expiry_and_marks_expired_tokens(alice: User) -> None:
    soon, _ = api_token_create(
        user=alice,
        label="soon",
        expires_at=dt.datetime(2099, 1, 2, tzinfo=dt.UTC),
        actor=alice,
        source="web",
    )
    gone, _ = api_token_create(user=alice, label="gone", actor=alice, source="web")
    expire(gone)

    page = text(client_for(alice).get("/account/tokens/"))

    soon_row = page.split(f'id="token-{soon.pk}"')[1].split("</tr>")[0]
    gone_row = page.split(f'id="token-{gone.pk}"')[1].split("</tr>")[0]
    assert 'datetime="2099-01-02T00:00:00Z"' in soon_row and "Revoke" in soon_row
    assert 'data-state="expired"' in page and '<span class="badge warn">expired</span>' in gone_row
    assert "Revoke" not in gone_row


def test_the_new_token_has_a_copy_button_that_waits_for_javascript(alice: User) -> None:
    page = text(client_for(alice).post("/account/tokens/", {"label": "ci", "expires": "never"}))
    assert 'data-copy="new-token-value" hidden>Copy</button>' in page
    assert '<code id="new-token-value">pat_' in page
