from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dashboard.models import AuditEvent, Domain
from edges.models import Edge, EdgeUpgrade
from edges.services.upgrades import (
    TRANSITIONS,
    UpgradeConflict,
    upgrade_request,
    upgrade_transition,
)
from tests.conftest import World, client_for
from tests.factories import future_window

WINDOW = future_window()
WINDOW_FIELD = f"{WINDOW:%Y-%m-%dT%H:%M}"
State = EdgeUpgrade.State


def advance(upgrade: EdgeUpgrade, actor: User, *actions: str, **extra: object) -> EdgeUpgrade:
    for action in actions:
        upgrade = upgrade_transition(
            upgrade=upgrade,
            action=action,
            actor=actor,
            source="web",
            scheduled_for=WINDOW,
            note="disk full" if action == "fail" else "",
            **extra,
        )
    return upgrade


@pytest.fixture
def requested(world: World, alice: User) -> EdgeUpgrade:
    return upgrade_request(edge=world.acme_ssl, actor=alice, source="web", note="Sunday please")


def test_members_request_an_upgrade_of_their_edge(requested: EdgeUpgrade, alice: User) -> None:
    assert requested.state == State.REQUESTED
    assert requested.requested_by == alice
    event = AuditEvent.objects.get(action="upgrade.request")
    assert (event.actor, event.reason, event.organization) == (
        alice,
        "Sunday please",
        requested.edge.organization,
    )


def test_other_organizations_cannot_request(world: World, carol: User) -> None:
    with pytest.raises(PermissionDenied):
        upgrade_request(edge=world.acme_ssl, actor=carol, source="web")
    assert not EdgeUpgrade.objects.exists()


def test_only_legacy_custom_ssl_edges_upgrade(world: World, support: User) -> None:
    with pytest.raises(ValidationError, match="already carries WebSockets"):
        upgrade_request(edge=world.globex_ssl, actor=support, source="web")
    with pytest.raises(ValidationError, match="Shared gateways"):
        upgrade_request(edge=world.gateway, actor=support, source="web")


def test_one_open_upgrade_per_edge(requested: EdgeUpgrade, bob: User) -> None:
    with pytest.raises(UpgradeConflict, match="acme-ssl's upgrade was already requested by alice"):
        upgrade_request(edge=requested.edge, actor=bob, source="web")


def test_the_happy_path_makes_the_edge_carry_websockets(
    requested: EdgeUpgrade, support: User
) -> None:
    done = advance(requested, support, "schedule", "start", "complete")
    assert done.state == State.COMPLETED
    assert done.scheduled_for == WINDOW
    assert done.started_at and done.finished_at
    edge = Edge.objects.get(pk=requested.edge_id)
    assert edge.proxy == "hipache" and edge.carries_websockets
    actions = list(
        AuditEvent.objects.filter(action__startswith="upgrade.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["upgrade.request", "upgrade.schedule", "upgrade.start", "upgrade.complete"]


def test_a_new_cname_target_sends_custom_domains_to_dns(
    requested: EdgeUpgrade, support: User
) -> None:
    advance(requested, support, "schedule", "start")
    advance(requested, support, "complete", new_hostname="acme-ssl-2.edges.example.net")
    edge = Edge.objects.get(pk=requested.edge_id)
    assert edge.hostname == "acme-ssl-2.edges.example.net"
    domain = Domain.objects.get(hostname="www.acme.example")
    assert domain.dns_status == Domain.DnsStatus.UPDATE_REQUIRED
    assert domain.dns_seen_target == "acme-ssl.edges.example.net"


def test_failed_upgrades_can_be_retried(requested: EdgeUpgrade, support: User) -> None:
    failed = advance(requested, support, "schedule", "start", "fail")
    assert failed.state == State.FAILED
    assert [(step.action, step.note) for step in failed.timeline()][-1] == ("fail", "disk full")
    assert Edge.objects.get(pk=requested.edge_id).proxy == "nginx_legacy"
    assert advance(failed, support, "retry").state == State.SCHEDULED


def test_failing_needs_a_note(requested: EdgeUpgrade, support: User) -> None:
    advance(requested, support, "schedule", "start")
    with pytest.raises(ValidationError, match="what went wrong"):
        upgrade_transition(upgrade=requested, action="fail", actor=support, source="web")


def test_scheduling_needs_a_window(requested: EdgeUpgrade, support: User) -> None:
    with pytest.raises(ValidationError, match="maintenance window"):
        upgrade_transition(upgrade=requested, action="schedule", actor=support, source="web")


@pytest.mark.parametrize("path", [[], ["schedule"]])
def test_requested_and_scheduled_upgrades_can_be_cancelled(
    requested: EdgeUpgrade, support: User, bob: User, path: list[str]
) -> None:
    advance(requested, support, *path)
    assert advance(requested, support, "cancel").state == State.CANCELLED
    # A cancelled upgrade is closed: a new one may be requested.
    assert upgrade_request(edge=requested.edge, actor=bob, source="web").state == State.REQUESTED


# Every (state, action) pair that the table does not allow is refused.
REACH = {
    State.REQUESTED: [],
    State.SCHEDULED: ["schedule"],
    State.IN_PROGRESS: ["schedule", "start"],
    State.COMPLETED: ["schedule", "start", "complete"],
    State.FAILED: ["schedule", "start", "fail"],
    State.CANCELLED: ["cancel"],
}
ILLEGAL = [
    (state, action)
    for state, action in itertools.product(REACH, TRANSITIONS)
    if state not in TRANSITIONS[action][0]
]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transitions_are_refused_and_change_nothing(
    requested: EdgeUpgrade, support: User, state: str, action: str
) -> None:
    upgrade = advance(requested, support, *REACH[state])
    assert upgrade.state == state
    events = AuditEvent.objects.count()
    with pytest.raises(UpgradeConflict, match="acme-ssl's upgrade was"):
        advance(upgrade, support, action)
    upgrade.refresh_from_db()
    assert upgrade.state == state
    assert AuditEvent.objects.count() == events


def test_customers_cannot_move_upgrades(requested: EdgeUpgrade, alice: User) -> None:
    with pytest.raises(PermissionDenied):
        advance(requested, alice, "schedule")


# Pages


def test_alice_requests_from_the_edge_page(alice: User, world: World) -> None:
    client = client_for(alice)
    page = client.get(reverse("edge-detail", args=["acme-ssl"])).content.decode()
    assert 'id="request-upgrade"' in page
    assert "retries the request on the next live back-end, even a POST" in page
    response = client.post(reverse("upgrade-create", args=["acme-ssl"]), {"note": "soon"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-state="requested"' in page
    assert 'id="request-upgrade"' not in page
    assert 'id="upgrade-start"' not in page  # customers get no staff buttons


def test_other_organizations_get_404_for_requests(carol: User, world: World) -> None:
    response = client_for(carol).post(reverse("upgrade-create", args=["acme-ssl"]))
    assert response.status_code == 404
    assert not EdgeUpgrade.objects.exists()


def test_staff_move_the_upgrade_from_the_edge_page(requested: EdgeUpgrade, support: User) -> None:
    client = client_for(support)
    page = client.get(reverse("edge-detail", args=["acme-ssl"])).content.decode()
    assert 'id="upgrade-schedule"' in page and 'id="upgrade-cancel"' in page
    url = reverse("upgrade-step", args=["acme-ssl", requested.pk, "schedule"])
    client.post(url, {"scheduled_for": WINDOW_FIELD})
    requested.refresh_from_db()
    assert requested.state == State.SCHEDULED and requested.scheduled_for == WINDOW
    start = reverse("upgrade-step", args=["acme-ssl", requested.pk, "start"])
    window_seen = {"window_seen": WINDOW.isoformat()}  # confirmed: the window has not come
    client.post(start, window_seen)
    second = client.post(start, window_seen)
    assert second.status_code == 409
    assert "acme-ssl&#x27;s upgrade was already started by support at" in second.content.decode()


def test_customers_get_404_for_staff_steps(requested: EdgeUpgrade, alice: User) -> None:
    url = reverse("upgrade-step", args=["acme-ssl", requested.pk, "schedule"])
    assert client_for(alice).post(url, {"scheduled_for": WINDOW_FIELD}).status_code == 404


def test_staff_see_the_queue(requested: EdgeUpgrade, support: User, alice: User) -> None:
    page = client_for(support).get(reverse("upgrade-queue")).content.decode()
    assert f'id="upgrade-{requested.pk}"' in page
    assert client_for(alice).get(reverse("upgrade-queue")).status_code == 404


# Command and admin


def run(*args: str) -> str:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_edges_command_walks_an_upgrade_through(world: World, support: User) -> None:
    from django.core.management.base import CommandError

    assert "acme-ssl" in run("edges", "list")
    assert "requested" in run("edges", "upgrade", "request", "acme-ssl", "--note", "ops")
    with pytest.raises(CommandError, match="a requested upgrade cannot be started"):
        run("edges", "upgrade", "start", "acme-ssl")
    run(
        "edges",
        "upgrade",
        "schedule",
        "acme-ssl",
        "--at",
        WINDOW.isoformat(),
        "--as",
        "support",
    )
    run("edges", "upgrade", "start", "acme-ssl")
    assert "completed" in run("edges", "upgrade", "complete", "acme-ssl")
    assert Edge.objects.get(name="acme-ssl").proxy == "hipache"
    sources = set(
        AuditEvent.objects.filter(action__startswith="upgrade.").values_list("source", flat=True)
    )
    assert sources == {"cli"}
    with pytest.raises(CommandError, match="no open upgrade"):
        run("edges", "upgrade", "cancel", "acme-ssl")
    with pytest.raises(CommandError, match="ISO 8601"):
        run("edges", "upgrade", "schedule", "globex-ssl", "--at", "tomorrow")


def test_admin_actions_go_through_the_workflow(requested: EdgeUpgrade, admin_user: User) -> None:
    client = client_for(admin_user)
    confirmed = {"_selected_action": [requested.pk], "confirmed": "yes"}
    response = client.post(
        "/admin/edges/edgeupgrade/", {"action": "start", **confirmed}, follow=True
    )
    assert "a requested upgrade cannot be started." in response.content.decode()
    client.post("/admin/edges/edgeupgrade/", {"action": "cancel", **confirmed})
    requested.refresh_from_db()
    assert requested.state == State.CANCELLED
    assert AuditEvent.objects.get(action="upgrade.cancel").source == "admin"
