"""The upgrade workflow keeps its promises: each step on a timeline with its own note, new
windows, no windows in the past, early starts confirmed, and messages that follow the state."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from dashboard.models import AuditEvent, Feature
from dashboard.services.features import feature_set
from edges.models import EdgeUpgrade
from edges.services.upgrades import (
    UpgradeConflict,
    moment,
    upgrade_request,
    upgrade_transition,
)
from tests.conftest import World, client_for
from tests.factories import future_window

WINDOW = future_window(days=5)
LATER = future_window(days=8)
State = EdgeUpgrade.State


def field(moment_: dt.datetime) -> str:
    """A window as a datetime-local field sends it."""
    return f"{moment_:%Y-%m-%dT%H:%M}"


def step_url(upgrade: EdgeUpgrade, action: str) -> str:
    return reverse("upgrade-step", args=[upgrade.edge.name, upgrade.pk, action])


@pytest.fixture
def requested(world: World, alice: User) -> EdgeUpgrade:
    return upgrade_request(edge=world.acme_ssl, actor=alice, source="web", note="Sunday please")


@pytest.fixture
def scheduled(requested: EdgeUpgrade, support: User) -> EdgeUpgrade:
    return upgrade_transition(
        upgrade=requested, action="schedule", actor=support, source="web", scheduled_for=WINDOW
    )


def snapshot(upgrade: EdgeUpgrade) -> tuple[object, ...]:
    upgrade.refresh_from_db()
    return (upgrade.state, upgrade.scheduled_for, upgrade.steps.count(), AuditEvent.objects.count())


# A window in the past


def test_scheduling_a_window_in_the_past_is_refused_on_the_page(
    requested: EdgeUpgrade, support: User
) -> None:
    before = snapshot(requested)
    response = client_for(support).post(
        step_url(requested, "schedule"), {"scheduled_for": "2020-01-01T00:00"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "The window 1 Jan 2020 00:00 UTC has already passed; pick a time in the future." in page
    # Beside the form used, with what was typed kept.
    assert 'id="upgrade-schedule-error"' in page and 'value="2020-01-01T00:00"' in page
    assert snapshot(requested) == before


def test_the_command_refuses_a_window_in_the_past(requested: EdgeUpgrade, support: User) -> None:
    before = snapshot(requested)
    with pytest.raises(CommandError, match="has already passed; pick a time in the future"):
        call_command("edges", "upgrade", "schedule", "acme-ssl", "--at", "2020-01-01T00:00:00Z")
    assert snapshot(requested) == before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next tuesday", "Give the window as a date and time."),
        ("", "Pick the maintenance window&#x27;s start."),
        ("2020-01-01T00:00", "has already passed"),
    ],
)
def test_a_bad_new_window_is_refused_and_changes_nothing(
    scheduled: EdgeUpgrade, support: User, value: str, message: str
) -> None:
    before = snapshot(scheduled)
    response = client_for(support).post(
        step_url(scheduled, "reschedule"), {"scheduled_for": value, "note": "ops"}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert snapshot(scheduled) == before


# A new window


def test_support_moves_the_window_and_the_customer_reads_it_on_the_edge_page(
    scheduled: EdgeUpgrade, support: User, alice: User
) -> None:
    page = client_for(support).get(scheduled.edge.get_absolute_url()).content.decode()
    assert 'id="upgrade-reschedule"' in page
    response = client_for(support).post(
        step_url(scheduled, "reschedule"),
        {"scheduled_for": field(LATER), "note": "the customer asked for a week later"},
        follow=True,
    )
    assert f"is now scheduled for {moment(LATER)}." in response.content.decode()
    scheduled.refresh_from_db()
    assert (scheduled.state, scheduled.scheduled_for) == (State.SCHEDULED, LATER)
    event = AuditEvent.objects.get(action="upgrade.reschedule")
    assert (event.actor, event.reason) == (support, "the customer asked for a week later")
    assert event.before["scheduled_for"] == WINDOW.isoformat()
    assert event.after["scheduled_for"] == LATER.isoformat()

    customer = client_for(alice).get(scheduled.edge.get_absolute_url()).content.decode()
    assert 'data-action="reschedule"' in customer
    assert f'<time datetime="{LATER:%Y-%m-%dT%H:%M:%SZ}"' in customer
    assert "the customer asked for a week later" in customer
    assert 'id="upgrade-reschedule"' not in customer


def test_moving_the_window_to_where_it_is_is_refused(scheduled: EdgeUpgrade, support: User) -> None:
    before = snapshot(scheduled)
    response = client_for(support).post(
        step_url(scheduled, "reschedule"), {"scheduled_for": field(WINDOW)}
    )
    assert response.status_code == 422
    assert "The upgrade is already scheduled for" in response.content.decode()
    assert snapshot(scheduled) == before


def test_the_command_moves_the_window(scheduled: EdgeUpgrade, support: User) -> None:
    out = io.StringIO()
    args = ["reschedule", "acme-ssl", "--at", LATER.isoformat(), "--note", "ops asked"]
    call_command("edges", "upgrade", *args, "--as", "support", stdout=out)
    assert "scheduled" in out.getvalue()
    step = scheduled.steps.order_by("-id").first()
    assert (step.action, step.window, step.previous_window, step.note) == (
        "reschedule",
        LATER,
        WINDOW,
        "ops asked",
    )


# Starting before the window


def test_starting_before_the_window_asks_first_and_changes_nothing(
    scheduled: EdgeUpgrade, support: User
) -> None:
    client = client_for(support)
    page = client.get(scheduled.edge.get_absolute_url()).content.decode()
    assert "before the window: you will be asked to confirm" in page
    before = snapshot(scheduled)
    response = client.post(step_url(scheduled, "start"))
    assert response.status_code == 200
    question = response.content.decode()
    assert f"The window of acme-ssl&#x27;s upgrade, {moment(WINDOW)}, has not come yet." in question
    assert 'id="confirm-early-start"' in question
    assert f'name="window_seen" value="{WINDOW.isoformat()}"' in question
    assert snapshot(scheduled) == before

    client.post(step_url(scheduled, "start"), {"window_seen": WINDOW.isoformat()})
    scheduled.refresh_from_db()
    assert scheduled.state == State.IN_PROGRESS


def test_confirming_a_start_after_the_window_moved_is_a_conflict(
    scheduled: EdgeUpgrade, support: User
) -> None:
    upgrade_transition(
        upgrade=scheduled, action="reschedule", actor=support, source="cli", scheduled_for=LATER
    )
    before = snapshot(scheduled)
    response = client_for(support).post(
        step_url(scheduled, "start"), {"window_seen": WINDOW.isoformat()}
    )
    assert response.status_code == 409
    page = response.content.decode()
    moved = moment(scheduled.steps.last().at)
    assert (
        f"acme-ssl&#x27;s upgrade was rescheduled by support at {moved}, to {moment(LATER)}; "
        "it was not started." in page
    )
    assert snapshot(scheduled) == before


def test_a_garbled_confirmation_is_refused(scheduled: EdgeUpgrade, support: User) -> None:
    before = snapshot(scheduled)
    response = client_for(support).post(step_url(scheduled, "start"), {"window_seen": "yes"})
    assert response.status_code == 422
    assert "This confirmation was garbled; press Start again." in response.content.decode()
    assert snapshot(scheduled) == before


def test_an_overdue_window_starts_without_the_early_start_question_and_is_flagged_in_the_queue(
    scheduled: EdgeUpgrade, support: User
) -> None:
    # The window was in the future when it was set; time has passed since.
    EdgeUpgrade.objects.filter(pk=scheduled.pk).update(
        scheduled_for=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    )
    client = client_for(support)
    queue = client.get(reverse("upgrade-queue")).content.decode()
    assert f'id="upgrade-{scheduled.pk}-overdue"' in queue
    assert f'<td class="queue-note" id="upgrade-{scheduled.pk}-note">Sunday please</td>' in queue
    assert 'id="upgrade-overdue"' in client.get(scheduled.edge.get_absolute_url()).content.decode()
    out = io.StringIO()
    call_command("edges", "upgrade", "list", "--open", stdout=out)
    assert out.getvalue().rstrip().endswith("OVERDUE")
    client.post(step_url(scheduled, "start"), {"confirmed": "yes"})
    scheduled.refresh_from_db()
    assert scheduled.state == State.IN_PROGRESS


def test_the_queue_flags_no_window_that_is_still_to_come(
    scheduled: EdgeUpgrade, support: User
) -> None:
    queue = client_for(support).get(reverse("upgrade-queue")).content.decode()
    assert f'id="upgrade-{scheduled.pk}"' in queue
    assert "overdue" not in queue
    out = io.StringIO()
    call_command("edges", "upgrade", "list", "--open", stdout=out)
    assert "acme-ssl" in out.getvalue() and "OVERDUE" not in out.getvalue()


# Each step keeps its own note


def test_failing_keeps_the_customers_note_and_the_edge_page_shows_every_step(
    scheduled: EdgeUpgrade, support: User, alice: User
) -> None:
    for action, note in (("start", ""), ("fail", "disk full on the edge")):
        upgrade_transition(upgrade=scheduled, action=action, actor=support, source="web", note=note)
    assert scheduled.request_note == "Sunday please"
    page = client_for(alice).get(scheduled.edge.get_absolute_url()).content.decode()
    timeline = page[page.index(f'id="upgrade-{scheduled.pk}-timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    steps = [
        ("request", "Requested</strong> by alice", "Sunday please"),
        ("schedule", "Scheduled</strong> by support for", ""),
        ("start", "Started</strong> by support", ""),
        ("fail", "Marked failed</strong> by support", "disk full on the edge"),
    ]
    positions = [timeline.index(f'data-action="{action}"') for action, _, _ in steps]
    assert positions == sorted(positions)
    for action, words, note in steps:
        item = timeline[timeline.index(f'data-action="{action}"') :]
        item = item[: item.index("</li>")]
        assert words in item
        assert (f'<p class="step-note">{note}</p>' in item) == bool(note)


# Messages follow the state


def features_refusal(user: User) -> str:
    response = client_for(user).post("/apps/acme-web/features/", {"toggle": "websockets:on"})
    assert response.status_code == 422
    return response.content.decode()


def test_the_features_refusal_offers_the_request_until_there_is_one(
    world: World, alice: User, support: User
) -> None:
    assert "Request a WebSocket upgrade of acme-ssl" in features_refusal(alice)
    upgrade = upgrade_request(edge=world.acme_ssl, actor=alice, source="web")
    refusal = features_refusal(alice)
    assert "Request a WebSocket upgrade" not in refusal
    assert "WebSocket upgrade</a> was requested on" in refusal
    assert "support will schedule a window" in refusal
    upgrade_transition(
        upgrade=upgrade, action="schedule", actor=support, source="web", scheduled_for=WINDOW
    )
    assert f"WebSocket upgrade</a> is scheduled for {moment(WINDOW)}" in features_refusal(alice)


def test_support_filing_a_request_is_not_told_support_will_schedule_it(
    world: World, support: User, alice: User
) -> None:
    answer = client_for(support).post(
        reverse("upgrade-create", args=["acme-ssl"]), {"note": "ticket 4821"}, follow=True
    )
    page = answer.content.decode()
    assert "Support will schedule" not in page
    assert "Upgrade of acme-ssl requested for" in page and "Schedule its window below." in page
    customer = client_for(alice).post(
        reverse("upgrade-create", args=["acme-ssl"]), {"note": "again"}, follow=True
    )
    assert customer.status_code == 409


def test_customers_are_told_support_will_schedule_their_request(world: World, bob: User) -> None:
    answer = client_for(bob).post(reverse("upgrade-create", args=["acme-ssl"]), follow=True)
    assert "Support will schedule the upgrade" in answer.content.decode()


def test_a_staff_only_feature_at_its_default_is_not_set_by_support(
    world: World, alice: User, support: User
) -> None:
    row = 'id="app-acme-web-feature-router-debug-headers"'

    def cell() -> str:
        page = client_for(alice).get("/apps/acme-web/").content.decode()
        item = page[page.index(row) :]
        return item[: item.index("</tr>")]

    assert "default" in cell() and "set by support" not in cell()
    feature_set(
        app=world.acme_web,
        feature=Feature.objects.get(name="router-debug-headers"),
        enabled=True,
        actor=support,
        source="web",
        reason="debugging ticket 12",
    )
    assert "set by support" in cell() and "default" not in cell()


def test_a_conflict_is_shown_once_in_words(scheduled: EdgeUpgrade, support: User) -> None:
    client = client_for(support)
    seen = {"window_seen": WINDOW.isoformat()}
    client.post(step_url(scheduled, "start"), seen)
    started = scheduled.steps.get(action="start")
    response = client.post(step_url(scheduled, "start"), seen)
    assert response.status_code == 409
    words = f"acme-ssl&#x27;s upgrade was already started by support at {moment(started.at)}."
    assert response.content.decode().count(words) == 1


def test_a_second_request_names_who_asked_first(requested: EdgeUpgrade, bob: User) -> None:
    with pytest.raises(UpgradeConflict) as conflict:
        upgrade_request(edge=requested.edge, actor=bob, source="web")
    step = requested.steps.get()
    assert conflict.value.message == (
        f"acme-ssl's upgrade was already requested by alice at {moment(step.at)}."
    )
