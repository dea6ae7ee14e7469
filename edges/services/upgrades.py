"""The custom SSL edge upgrade workflow: legacy Nginx to Hipache, one audited step at a time.

requested -> scheduled -> in_progress -> completed | failed; a scheduled upgrade may get a new
window; requested and scheduled may be cancelled; failed may be retried (back to scheduled).
Every step is a row of the upgrade's timeline, with its actor, time and its own note.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard import access
from dashboard.models import Domain
from dashboard.services.audit import actor_label, audit_write
from edges.models import Edge, EdgeUpgrade, UpgradeStep
from shared import bus
from shared.validators import normalize_hostname, validate_hostname, validate_text

State = EdgeUpgrade.State

# action: (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "schedule": (frozenset({State.REQUESTED}), State.SCHEDULED),
    "reschedule": (frozenset({State.SCHEDULED}), State.SCHEDULED),
    "start": (frozenset({State.SCHEDULED}), State.IN_PROGRESS),
    "complete": (frozenset({State.IN_PROGRESS}), State.COMPLETED),
    "fail": (frozenset({State.IN_PROGRESS}), State.FAILED),
    "cancel": (frozenset({State.REQUESTED, State.SCHEDULED}), State.CANCELLED),
    "retry": (frozenset({State.FAILED}), State.SCHEDULED),
}

# The steps that set the maintenance window.
WINDOW_ACTIONS = frozenset({"schedule", "reschedule", "retry"})

PAST_TENSE = {
    "request": "requested",
    "schedule": "scheduled",
    "reschedule": "rescheduled",
    "start": "started",
    "complete": "completed",
    "fail": "marked failed",
    "cancel": "cancelled",
    "retry": "retried",
}


class UpgradeConflict(Exception):
    """The upgrade is not in a state that allows this step (someone else may have moved it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def action_for(upgrade: EdgeUpgrade, target_state: str) -> str:
    """The action that moves an upgrade to `target_state` from where it is now."""
    if target_state == State.SCHEDULED:
        return {State.FAILED: "retry", State.SCHEDULED: "reschedule"}.get(upgrade.state, "schedule")
    for action, (_, to_state) in TRANSITIONS.items():
        if to_state == target_state:
            return action
    raise ValidationError(
        f"state must be one of {', '.join(s for s in State.values if s != State.REQUESTED)}."
    )


def _publish(edge: Edge, upgrade: EdgeUpgrade, app_names: list[str]) -> None:
    payload = {
        "edge": edge.name,
        "upgrade": upgrade.pk,
        "state": upgrade.state,
        "proxy": edge.proxy,
        "apps": app_names,
    }
    if edge.organization_id is not None:
        payload["organization"] = edge.organization.name
    bus.announce_on_commit("edge.upgrade_changed", payload)


def _app_names(edge: Edge) -> list[str]:
    return sorted(set(Domain.objects.filter(edge=edge).values_list("app__name", flat=True)))


def upgrade_needless(edge: Edge) -> str:
    """Why the edge needs no WebSocket upgrade ("" when it does)."""
    if edge.kind != Edge.Kind.CUSTOM_SSL:
        return "Shared gateways already run Hipache; only custom SSL edges upgrade."
    if edge.carries_websockets:
        return f"{edge.name} already carries WebSockets."
    return ""


def may_request_upgrade(user: Any, edge: Edge, open_upgrade: EdgeUpgrade | None) -> bool:
    """Whether the edge page offers this user the request button."""
    return (
        open_upgrade is None
        and not upgrade_needless(edge)
        and access.can_request_upgrade(user, edge.organization_id)
    )


def moment(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """A time in words, in UTC: `10:02 UTC` today, `6 Dec 2026 02:00 UTC` on another day."""
    when = when.astimezone(dt.UTC)
    if when.date() == (now or timezone.now()).astimezone(dt.UTC).date():
        return f"{when:%H:%M} UTC"
    return f"{when.day} {when:%b %Y %H:%M} UTC"


def _last_step(upgrade: EdgeUpgrade) -> UpgradeStep | None:
    return upgrade.steps.order_by("-at", "-id").first()


def conflict_for(upgrade: EdgeUpgrade, action: str) -> UpgradeConflict:
    """Why `action` cannot be taken, in words: who moved the upgrade last, and when."""
    name, state = upgrade.edge.name, upgrade.get_state_display().lower()
    last = _last_step(upgrade)
    if last is None:
        return UpgradeConflict(f"{name}'s upgrade is {state}; it cannot be {PAST_TENSE[action]}.")
    # Asking for an upgrade that is open, or for a step someone has just taken: "already".
    same = (
        action == "request"
        or last.action == action
        or (
            action in TRANSITIONS
            and TRANSITIONS.get(last.action, ((), ""))[1] == TRANSITIONS[action][1]
        )
    )
    done = f"{'already ' if same else ''}{last.get_action_display().lower()}"
    message = f"{name}'s upgrade was {done} by {last.actor_label} at {moment(last.at)}"
    if last.window is not None:
        message += f" for {moment(last.window)}"
    if not same:
        article = "an" if state[0] in "aeiou" else "a"
        message += f"; {article} {state} upgrade cannot be {PAST_TENSE[action]}"
    return UpgradeConflict(message + ".")


def _window_moved(upgrade: EdgeUpgrade) -> UpgradeConflict:
    last = _last_step(upgrade)
    who = f" by {last.actor_label} at {moment(last.at)}" if last is not None else ""
    window = moment(upgrade.scheduled_for) if upgrade.scheduled_for else "no window"
    return UpgradeConflict(
        f"{upgrade.edge.name}'s upgrade was rescheduled{who}, to {window}; "
        "it was not started. Look at the new window before starting it."
    )


def starts_early(upgrade: EdgeUpgrade, now: dt.datetime | None = None) -> bool:
    """A scheduled upgrade whose window has not come: starting it asks for confirmation."""
    return (
        upgrade.state == State.SCHEDULED
        and upgrade.scheduled_for is not None
        and upgrade.scheduled_for > (now or timezone.now())
    )


def window_overdue(upgrade: EdgeUpgrade, now: dt.datetime | None = None) -> bool:
    """A scheduled upgrade whose window has come and gone without a start."""
    return (
        upgrade.state == State.SCHEDULED
        and upgrade.scheduled_for is not None
        and upgrade.scheduled_for <= (now or timezone.now())
    )


def progress(upgrade: EdgeUpgrade) -> str:
    """Where an open upgrade stands, for the customer: the words after "The upgrade of X"."""
    if upgrade.state == State.REQUESTED:
        requested = upgrade.created_at.astimezone(dt.UTC)
        return f"was requested on {requested.day} {requested:%b}; support will schedule a window"
    if upgrade.state == State.SCHEDULED and upgrade.scheduled_for is not None:
        return f"is scheduled for {moment(upgrade.scheduled_for)}"
    if upgrade.state == State.IN_PROGRESS:
        return "is under way"
    if upgrade.state == State.FAILED:
        return "failed; support will retry it"
    return f"is {upgrade.get_state_display().lower()}"


def _check_window(upgrade: EdgeUpgrade, action: str, window: dt.datetime | None) -> None:
    if window is None:
        raise ValidationError({"scheduled_for": "Pick the maintenance window's start."})
    if window <= timezone.now():
        raise ValidationError(
            {
                "scheduled_for": f"The window {moment(window)} has already passed; "
                "pick a time in the future."
            }
        )
    if action == "reschedule" and window == upgrade.scheduled_for:
        raise ValidationError(
            {"scheduled_for": f"The upgrade is already scheduled for {moment(window)}."}
        )


def _record_step(upgrade: EdgeUpgrade, action: str, actor: Any, **fields: Any) -> UpgradeStep:
    return UpgradeStep.objects.create(
        upgrade=upgrade, action=action, actor=actor, actor_label=actor_label(actor), **fields
    )


@transaction.atomic
def upgrade_request(*, edge: Edge, actor: Any, source: str, note: str = "") -> EdgeUpgrade:
    """Ask for a WebSocket upgrade: members of the edge's organization, or staff."""
    if not access.can_request_upgrade(actor, edge.organization_id):
        raise PermissionDenied("Only the edge's organization or support staff can request this.")
    note = validate_text(note, what="The note").strip()[:2000]
    edge = Edge.objects.select_for_update().get(pk=edge.pk)
    problem = upgrade_needless(edge)
    if problem:
        raise ValidationError(problem)
    current = EdgeUpgrade.objects.open().filter(edge=edge).select_related("edge").first()
    if current is not None:
        raise conflict_for(current, "request")
    upgrade = EdgeUpgrade(
        edge=edge, requested_by=actor, from_proxy=edge.proxy, old_hostname=edge.hostname
    )
    try:
        with transaction.atomic():
            upgrade.save()
    except IntegrityError:
        raise UpgradeConflict(f"{edge.name} already has an open upgrade.") from None
    _record_step(upgrade, "request", actor, note=note, at=upgrade.created_at)
    audit_write(
        actor=actor,
        source=source,
        action="upgrade.request",
        target=upgrade,
        organization=edge.organization,
        after={"state": upgrade.state, "edge": edge.name},
        reason=note,
        # The step's note is on the timeline the customer reads.
        reason_shared=True,
    )
    _publish(edge, upgrade, _app_names(edge))
    return upgrade


@transaction.atomic
def upgrade_transition(
    *,
    upgrade: EdgeUpgrade,
    action: str,
    actor: Any,
    source: str,
    scheduled_for: dt.datetime | None = None,
    note: str = "",
    new_hostname: str = "",
    window_seen: dt.datetime | None = None,
) -> EdgeUpgrade:
    """Move an upgrade one step. Staff only. Locks the upgrade, so of two people pressing the
    same button one wins and the other gets UpgradeConflict. `window_seen`, on a start, is the
    window the person starting saw: if it has moved since, the start is a conflict."""
    if action not in TRANSITIONS:
        raise ValidationError(f"Unknown step {action!r}.")
    if not access.can_step_upgrade(actor):
        raise PermissionDenied("Only support staff can move an upgrade along.")
    upgrade = EdgeUpgrade.objects.select_for_update().select_related("edge").get(pk=upgrade.pk)
    allowed, to_state = TRANSITIONS[action]
    if upgrade.state not in allowed:
        raise conflict_for(upgrade, action)
    if action == "start" and window_seen is not None and window_seen != upgrade.scheduled_for:
        raise _window_moved(upgrade)
    note = validate_text(note, what="The note").strip()[:2000]
    previous_window = upgrade.scheduled_for
    if action in WINDOW_ACTIONS:
        _check_window(upgrade, action, scheduled_for)
        upgrade.scheduled_for = scheduled_for
    if action == "fail" and not note:
        raise ValidationError({"note": "Say what went wrong, for the customer and the next try."})
    before = {
        "state": upgrade.state,
        "proxy": upgrade.edge.proxy,
        "scheduled_for": previous_window.isoformat() if previous_window else None,
    }
    now = timezone.now()
    edge = Edge.objects.select_for_update().get(pk=upgrade.edge_id)
    app_names = _app_names(edge)
    if action == "start":
        upgrade.started_at = now
    if action in ("complete", "fail", "cancel"):
        upgrade.finished_at = now
    if action == "complete":
        _complete(edge, upgrade, normalize_hostname(new_hostname or ""))
    upgrade.state = to_state
    upgrade.save()
    _record_step(
        upgrade,
        action,
        actor,
        at=now,
        note=note,
        window=upgrade.scheduled_for if action in WINDOW_ACTIONS else None,
        previous_window=previous_window if action == "reschedule" else None,
    )
    audit_write(
        actor=actor,
        source=source,
        action=f"upgrade.{action}",
        target=upgrade,
        organization=edge.organization,
        before=before,
        after={
            "state": upgrade.state,
            "proxy": edge.proxy,
            "hostname": edge.hostname,
            "scheduled_for": upgrade.scheduled_for.isoformat() if upgrade.scheduled_for else None,
        },
        reason=note,
        # The step's note is on the timeline the customer reads.
        reason_shared=True,
    )
    _publish(edge, upgrade, app_names)
    return upgrade


def _complete(edge: Edge, upgrade: EdgeUpgrade, new_hostname: str) -> None:
    """The edge now runs Hipache; a new CNAME target sends every custom domain's owner to DNS."""
    edge.proxy = EdgeUpgrade.TARGET_PROXY
    fields = ["proxy", "updated_at"]
    if new_hostname and new_hostname != edge.hostname:
        validate_hostname(new_hostname)
        if Edge.objects.filter(hostname=new_hostname).exclude(pk=edge.pk).exists():
            raise ValidationError({"new_hostname": f"{new_hostname} is another edge's hostname."})
        upgrade.new_hostname = new_hostname
        Domain.objects.filter(edge=edge, kind=Domain.Kind.CUSTOM).update(
            dns_status=Domain.DnsStatus.UPDATE_REQUIRED,
            dns_seen_target=edge.hostname,
            updated_at=timezone.now(),
        )
        edge.hostname = new_hostname
        fields.append("hostname")
    edge.save(update_fields=fields)
