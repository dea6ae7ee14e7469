"""The edges API (not part of Heroku's): same token auth and JSON errors as the Platform API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse

from dashboard import access
from dashboard.api.base import api_view, json_body
from dashboard.api.serializers import team_ref, timestamp
from dashboard.models import AuditEvent
from edges.models import Certificate, Edge, EdgeUpgrade, UpgradeStep
from edges.services.upgrades import UpgradeConflict, action_for, upgrade_request, upgrade_transition
from shared.errors import ApiError, invalid_params, not_found

EDGE_NOT_FOUND = "Couldn't find that edge."
UPGRADE_NOT_FOUND = "Couldn't find that upgrade."
SOURCE = AuditEvent.Source.API


def certificate_json(certificate: Certificate | None) -> dict[str, Any] | None:
    if certificate is None:
        return None
    return {
        "common_name": certificate.common_name,
        "sans": certificate.sans,
        "issuer": certificate.issuer,
        "not_before": timestamp(certificate.not_before),
        "not_after": timestamp(certificate.not_after),
        "status": certificate.expiry_status(),
    }


def step_json(step: UpgradeStep) -> dict[str, Any]:
    return {
        "action": step.action,
        "by": step.actor_label,
        "at": timestamp(step.at),
        "note": step.note,
        "window": timestamp(step.window),
        "previous_window": timestamp(step.previous_window),
    }


def upgrade_json(upgrade: EdgeUpgrade) -> dict[str, Any]:
    return {
        "id": upgrade.pk,
        "edge": upgrade.edge.name,
        "state": upgrade.state,
        "from_proxy": upgrade.from_proxy,
        "to_proxy": EdgeUpgrade.TARGET_PROXY,
        "requested_by": upgrade.requested_by.get_username() if upgrade.requested_by else None,
        "scheduled_for": timestamp(upgrade.scheduled_for),
        "started_at": timestamp(upgrade.started_at),
        "finished_at": timestamp(upgrade.finished_at),
        "old_hostname": upgrade.old_hostname,
        "new_hostname": upgrade.new_hostname or None,
        # The requester's note; every step keeps its own, in `steps`.
        "note": upgrade.request_note,
        "steps": [step_json(step) for step in upgrade.timeline()],
        "created_at": timestamp(upgrade.created_at),
        "updated_at": timestamp(upgrade.updated_at),
    }


def edge_json(edge: Edge) -> dict[str, Any]:
    capabilities = edge.capabilities
    certificate = Certificate.objects.filter(edge=edge).first()
    open_upgrade = (
        edge.upgrades.open().select_related("requested_by").prefetch_related("steps").first()
    )
    return {
        **edge.setup(),
        "organization": team_ref(edge.organization) if edge.organization else None,
        "ping_advice": edge.ping_advice,
        "capabilities": {
            "websockets": capabilities.websockets,
            "websockets_detail": capabilities.websockets_detail,
            "wss": capabilities.wss,
            "gzip": capabilities.gzip,
            "dead_backend_detection": capabilities.dead_backend_detection,
            "on_dead_backend": capabilities.on_dead_backend,
        },
        "certificate": certificate_json(certificate),
        "open_upgrade": upgrade_json(open_upgrade) if open_upgrade else None,
        # What the edge agent last said of the configuration it was served.
        "config": {
            "status": edge.config_status or None,
            "etag": edge.config_etag or None,
            "reported_at": timestamp(edge.config_reported_at),
        },
        "created_at": timestamp(edge.created_at),
        "updated_at": timestamp(edge.updated_at),
    }


def _edge(user: Any, name: str) -> Edge:
    edge = Edge.objects.visible_to(user).select_related("organization").filter(name=name).first()
    if edge is None:
        raise not_found(EDGE_NOT_FOUND)
    return edge


def _conflict(error: UpgradeConflict) -> ApiError:
    return ApiError(409, "conflict", error.message)


@api_view("GET")
def edge_list(request: HttpRequest, user: Any) -> JsonResponse:
    edges = Edge.objects.visible_to(user).select_related("organization").order_by("name")
    return JsonResponse([edge_json(edge) for edge in edges], safe=False)


@api_view("GET")
def edge_detail(request: HttpRequest, user: Any, name: str) -> JsonResponse:
    return JsonResponse(edge_json(_edge(user, name)))


@api_view("GET", "POST")
def upgrade_list(request: HttpRequest, user: Any, name: str) -> JsonResponse:
    edge = _edge(user, name)
    if request.method == "POST":
        body = json_body(request)
        note = body.get("note", "")
        if not isinstance(note, str):
            raise invalid_params("note must be a string.")
        try:
            upgrade = upgrade_request(edge=edge, actor=user, source=SOURCE, note=note)
        except UpgradeConflict as conflict:
            raise _conflict(conflict) from None
        except PermissionDenied:
            raise not_found(EDGE_NOT_FOUND) from None
        return JsonResponse(upgrade_json(upgrade), status=201)
    upgrades = edge.upgrades.select_related("edge", "requested_by").prefetch_related("steps")
    return JsonResponse([upgrade_json(u) for u in upgrades], safe=False)


def _datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_params("scheduled_for must be an ISO 8601 date and time.")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_params("scheduled_for must be an ISO 8601 date and time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@api_view("GET", "PATCH")
def upgrade_detail(request: HttpRequest, user: Any, name: str, pk: int) -> JsonResponse:
    edge = _edge(user, name)
    upgrade = edge.upgrades.select_related("edge", "requested_by").filter(pk=pk).first()
    if upgrade is None:
        raise not_found(UPGRADE_NOT_FOUND)
    if request.method == "GET":
        return JsonResponse(upgrade_json(upgrade))
    if not access.can_step_upgrade(user):
        raise ApiError(403, "forbidden", "Only support staff can move an upgrade along.")
    body = json_body(request)
    state = body.get("state")
    if not isinstance(state, str):
        raise invalid_params("state is required.")
    for field in ("note", "new_hostname"):
        if not isinstance(body.get(field, ""), str):
            raise invalid_params(f"{field} must be a string.")
    try:
        action = action_for(upgrade, state)
        upgrade = upgrade_transition(
            upgrade=upgrade,
            action=action,
            actor=user,
            source=SOURCE,
            scheduled_for=_datetime(body.get("scheduled_for")),
            note=body.get("note", ""),
            new_hostname=body.get("new_hostname", ""),
        )
    except UpgradeConflict as conflict:
        raise _conflict(conflict) from None
    return JsonResponse(upgrade_json(upgrade))
