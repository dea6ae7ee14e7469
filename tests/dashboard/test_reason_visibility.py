"""Support's reasons are internal: a customer reads that support changed a feature, not why,
unless support shared the reason. On the pages, in the API and in the live pushes alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from dashboard.models import AuditEvent, Feature
from dashboard.services.features import feature_set
from live import events
from live.topics import authorize
from tests.conftest import World, client_for
from tests.dashboard.test_api import api_for

pytestmark = pytest.mark.django_db

INTERNAL = "ticket 4821: customer is on the bad-payer list"
SHARED = "ticket 4822: turned on for your load test"
LINE = "enabled router-debug-headers on"


def switch_as_support(world: World, support: User, reason: str, shared: bool | None) -> None:
    feature_set(
        app=world.acme_api,
        feature=Feature.objects.get(name="router-debug-headers"),
        enabled=True,
        actor=support,
        source="web",
        reason=reason,
        reason_shared=shared,
    )


def test_support_reasons_are_internal_unless_shared(world: World, support: User) -> None:
    switch_as_support(world, support, INTERNAL, None)
    assert AuditEvent.objects.get(reason=INTERNAL).reason_shared is False


@pytest.mark.parametrize(
    "path", ["/apps/acme-api/", "/orgs/acme/", "/audit/", "/audit/?app=acme-api"]
)
def test_a_customer_reads_that_support_changed_a_feature_but_not_why(
    world: World, support: User, alice: User, path: str
) -> None:
    switch_as_support(world, support, INTERNAL, None)
    customer = client_for(alice).get(path).content.decode()
    assert LINE in customer
    assert INTERNAL not in customer
    staff = client_for(support).get(path).content.decode()
    assert INTERNAL in staff and ">internal</span>" in staff


def test_a_shared_reason_reaches_the_customer(world: World, support: User, bob: User) -> None:
    switch_as_support(world, support, SHARED, True)
    page = client_for(bob).get("/apps/acme-api/").content.decode()
    assert SHARED in page and "internal" not in page
    assert "shared with the customer" in client_for(support).get("/apps/acme-api/").content.decode()


def test_support_shares_the_reason_from_the_features_panel(world: World, support: User) -> None:
    support_client = client_for(support)
    page = support_client.get("/apps/acme-api/").content.decode()
    assert 'name="reason_shared"' in page and "Share this reason with the customer" in page
    support_client.post(
        "/apps/acme-api/features/",
        {"toggle": "router-debug-headers:on", "reason": SHARED, "reason_shared": "on"},
    )
    support_client.post(
        "/apps/acme-api/features/", {"toggle": "router-debug-headers:off", "reason": INTERNAL}
    )
    assert AuditEvent.objects.get(reason=SHARED).reason_shared is True
    assert AuditEvent.objects.get(reason=INTERNAL).reason_shared is False


def test_customers_get_no_share_checkbox(alice: User) -> None:
    assert 'name="reason_shared"' not in client_for(alice).get("/apps/acme-api/").content.decode()


def test_a_members_own_reason_is_read_by_the_other_members(alice: User, bob: User) -> None:
    api_for(alice).patch(
        "/apps/acme-api/features/websockets", {"enabled": False, "reason": "moving to SSE"}
    )
    assert "moving to SSE" in client_for(bob).get("/apps/acme-api/").content.decode()


def test_the_api_takes_reason_shared_as_a_boolean(world: World, support: User) -> None:
    api = api_for(support)
    path = "/apps/acme-api/features/router-debug-headers"
    refused = api.patch(path, {"enabled": True, "reason": SHARED, "reason_shared": "yes"})
    assert refused.status_code == 422
    assert refused.json()["message"] == "reason_shared must be a boolean: true or false."
    assert not AuditEvent.objects.filter(reason=SHARED).exists()
    assert api.patch(path, {"enabled": True, "reason": SHARED, "reason_shared": True}).status_code
    assert AuditEvent.objects.get(reason=SHARED).reason_shared is True


def test_the_command_shares_a_reason_only_when_told(world: World) -> None:
    for action, flags in (("enable", ["--share-reason"]), ("disable", [])):
        call_command(
            "labs", action, "router-debug-headers", "--app", "acme-api", "--reason", action, *flags
        )
    assert AuditEvent.objects.get(reason="enable").reason_shared is True
    assert AuditEvent.objects.get(reason="disable").reason_shared is False


def pushed(user: User, kind: str, name: str, part: str) -> Any:
    topic = authorize(user, kind, name)
    assert topic is not None
    return topic.audience, topic.render(frozenset({part}))[part]


@pytest.mark.parametrize(
    ("kind", "name", "part"),
    [("apps", "acme-api", events.FEATURES), ("org-pages", "acme", events.ACTIVITY)],
)
def test_live_pushes_to_customers_leave_the_reason_out(
    world: World, support: User, alice: User, kind: str, name: str, part: str
) -> None:
    switch_as_support(world, support, INTERNAL, None)
    customers, to_customers = pushed(alice, kind, name, part)
    staff, to_staff = pushed(support, kind, name, part)
    assert customers != staff  # one render per audience, never shared
    assert LINE in to_customers and INTERNAL not in to_customers
    assert INTERNAL in to_staff


def test_supports_own_live_list_keeps_the_reasons(world: World, support: User) -> None:
    switch_as_support(world, support, INTERNAL, None)
    assert INTERNAL in pushed(support, "support", "", events.SUPPORT_ACTIVITY)[1]
