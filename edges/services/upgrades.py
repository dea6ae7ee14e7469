"""The custom SSL edge upgrade workflow: legacy Nginx to Hipache, one audited step at a time.

requested -> scheduled -> in_progress -> completed | failed; requested and scheduled may be
cancelled; failed may be retried (back to scheduled).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard import access
from dashboard.models import Domain
from dashboard.services.audit import audit_write
from edges.models import Edge, EdgeUpgrade
from shared import bus
from shared.validators import normalize_hostname, validate_hostname, validate_text

State = EdgeUpgrade.State

# action: (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "schedule": (frozenset({State.REQUESTED}), State.SCHEDULED),
    "start": (frozenset({State.SCHEDULED}), State.IN_PROGRESS),
    "complete": (frozenset({State.IN_PROGRESS}), State.COMPLETED),
    "fail": (frozenset({State.IN_PROGRESS}), State.FAILED),
    "cancel": (frozenset({State.REQUESTED, State.SCHEDULED}), State.CANCELLED),
    "retry": (frozenset({State.FAILED}), State.SCHEDULED),
}

PAST_TENSE = {
    "schedule": "scheduled",
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
        return "retry" if upgrade.state == State.FAILED else "schedule"
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


@transaction.atomic
def upgrade_request(*, edge: Edge, actor: Any, source: str, note: str = "") -> EdgeUpgrade:
    """Ask for a WebSocket upgrade: members of the edge's organization, or staff."""
    if not access.can_request_upgrade(actor, edge.organization_id):
        raise PermissionDenied("Only the edge's organization or support staff can request this.")
    validate_text(note, what="The note")
    edge = Edge.objects.select_for_update().get(pk=edge.pk)
    problem = upgrade_needless(edge)
    if problem:
        raise ValidationError(problem)
    current = EdgeUpgrade.objects.open().filter(edge=edge).first()
    if current is not None:
        state = current.get_state_display().lower()
        raise UpgradeConflict(f"{edge.name} already has an open upgrade (#{current.pk}, {state}).")
    upgrade = EdgeUpgrade(
        edge=edge,
        requested_by=actor,
        from_proxy=edge.proxy,
        old_hostname=edge.hostname,
        note=note.strip()[:2000],
    )
    try:
        with transaction.atomic():
            upgrade.save()
    except IntegrityError:
        raise UpgradeConflict(f"{edge.name} already has an open upgrade.") from None
    audit_write(
        actor=actor,
        source=source,
        action="upgrade.request",
        target=upgrade,
        organization=edge.organization,
        after={"state": upgrade.state, "edge": edge.name},
        reason=upgrade.note,
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
) -> EdgeUpgrade:
    """Move an upgrade one step. Staff only. Locks the upgrade, so of two people pressing the
    same button one wins and the other gets UpgradeConflict."""
    if action not in TRANSITIONS:
        raise ValidationError(f"Unknown step {action!r}.")
    if not access.can_step_upgrade(actor):
        raise PermissionDenied("Only support staff can move an upgrade along.")
    upgrade = EdgeUpgrade.objects.select_for_update().select_related("edge").get(pk=upgrade.pk)
    allowed, to_state = TRANSITIONS[action]
    if upgrade.state not in allowed:
        raise UpgradeConflict(
            f"Upgrade #{upgrade.pk} of {upgrade.edge.name} is {upgrade.get_state_display().lower()}"
            f"; it cannot be {PAST_TENSE[action]}."
        )
    note = validate_text(note, what="The note").strip()[:2000]
    if action in ("schedule", "retry"):
        if scheduled_for is None:
            raise ValidationError({"scheduled_for": "Pick the maintenance window's start."})
        upgrade.scheduled_for = scheduled_for
    if action == "fail" and not note:
        raise ValidationError({"note": "Say what went wrong, for the customer and the next try."})
    before = {"state": upgrade.state, "proxy": upgrade.edge.proxy}
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
    if note:
        upgrade.note = note
    upgrade.save()
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
