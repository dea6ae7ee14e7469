"""Edge reports: strict parsing of what an edge says it carries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import orjson
from django.core.exceptions import ValidationError

from edges.edge_states import Frontend as EdgeFrontend
from edges.edge_states import frontend_of as edge_frontend
from shared.errors import ApiError
from shared.validators import SERVER_ADDRESS, normalize_hostname, validate_hostname

MAX_BODY_BYTES = 1024 * 1024
MAX_FRONTENDS = 10_000
MAX_BACKENDS = 1_000
MAX_COUNT = 10_000_000
MAX_SEQ = 2**63 - 1
BACKEND_STATES = ("up", "dead")


class Frontend(NamedTuple):
    # A tuple: an edge reports thousands of them a second, and a frozen dataclass costs a
    # setattr per field to build.
    hostname: str
    connections: int
    websockets: int
    backends: tuple[dict[str, Any], ...]


# Frontend((hostname, connections, websockets, backends)) without the Python-level __new__ a
# NamedTuple call goes through.
_frontend = partial(tuple.__new__, Frontend)
BACKEND_KEYS = frozenset(("address", "connections", "state"))


@dataclass(frozen=True)
class Routed:
    """A report's rows as the live state keeps them (edges.edge_states.Frontend: with their app),
    grouped by app with each app's total, made in the pass that checks them."""

    app_ids: dict[str, int]  # the hostname -> app id map they were routed with
    rows: tuple[EdgeFrontend, ...]
    by_app: dict[int, list[EdgeFrontend]]
    per_app: dict[int, int]
    unknown: list[str]


@dataclass(frozen=True)
class Report:
    edge: str
    seq: int
    sent_at: dt.datetime
    # Unless routed: the rows as sent (checked).
    frontends: list[Frontend]
    routed: Routed | None = None


def _bad(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def _count(value: Any, where: str, *, maximum: int = MAX_COUNT) -> int:
    # bool is an int subclass in Python; JSON true is not a count.
    if type(value) is not int:
        raise _bad(f"{where} must be a whole number.")
    if value < 0:
        raise _bad(f"{where} must not be negative.")
    if value > maximum:
        raise _bad(f"{where} is implausibly large.")
    return value


# Hostnames already found valid, as given -> normalized: an edge names the same ones in every
# report, so each is checked once per process (bounded: emptied when full).
_valid_hostnames: dict[str, str] = {}
VALID_HOSTNAMES_KEPT = 200_000


def _hostname(value: Any, where: str) -> str:
    if isinstance(value, str) and (known := _valid_hostnames.get(value)) is not None:
        return known
    if not isinstance(value, str) or not 0 < len(value) <= 253:
        raise _bad(f"{where} must be a hostname.")
    hostname = normalize_hostname(value)
    try:
        validate_hostname(hostname)
    except ValidationError as invalid:
        raise _bad(f"{where}: {invalid.messages[0]}") from None
    if len(_valid_hostnames) >= VALID_HOSTNAMES_KEPT:
        _valid_hostnames.clear()
    _valid_hostnames[value] = hostname
    return hostname


def _backends(value: Any, frontend: int) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    where = f"frontends[{frontend}].backends"
    if not isinstance(value, list) or len(value) > MAX_BACKENDS:
        raise _bad(f"{where} must be a list of at most {MAX_BACKENDS} back-ends.")
    result = []
    for index, backend in enumerate(value):
        if type(backend) is dict and backend.keys() == BACKEND_KEYS:
            # The shape agents send: kept as it is once its values check out.
            address, state, connections = (
                backend["address"],
                backend["state"],
                backend["connections"],
            )
            if (
                type(address) is str
                and state in BACKEND_STATES
                and type(connections) is int
                and 0 <= connections <= MAX_COUNT
                and SERVER_ADDRESS.fullmatch(address)
            ):
                result.append(backend)
                continue
        if not isinstance(backend, dict):
            raise _bad(f"{where}[{index}] must be an object.")
        address = backend.get("address")
        if not (isinstance(address, str) and SERVER_ADDRESS.fullmatch(address)):
            raise _bad(f"{where}[{index}].address must be a host:port string.")
        state = backend.get("state", "up")
        if state not in BACKEND_STATES:
            raise _bad(f"{where}[{index}].state must be one of {', '.join(BACKEND_STATES)}.")
        connections = backend.get("connections", 0)
        if type(connections) is not int or not 0 <= connections <= MAX_COUNT:
            _count(connections, f"{where}[{index}].connections")  # says what is wrong
        result.append({"address": address, "connections": connections, "state": state})
    return tuple(result)


def parse_report(
    body: bytes,
    content_type: str,
    routes: Callable[[], dict[str, int]] | dict[str, int] | None = None,
) -> Report:
    """The report, checked; with `routes` (hostname -> app id, edges.services.reports.Routing,
    or what answers it: asked for once the body is a report) its rows are routed in the same
    pass (Report.routed)."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the report as application/json.")
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", "A report may be at most 1 MiB.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _bad("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _bad("The report must be a JSON object.")
    edge = data.get("edge")
    if not isinstance(edge, str) or not edge:
        raise _bad("edge must be the edge's name.")
    seq = _count(data.get("seq"), "seq", maximum=MAX_SEQ)
    sent_at_raw = data.get("sent_at")
    if not isinstance(sent_at_raw, str):
        raise _bad("sent_at must be an ISO 8601 time.")
    try:
        sent_at = dt.datetime.fromisoformat(sent_at_raw.replace("Z", "+00:00"))
    except ValueError:
        raise _bad("sent_at must be an ISO 8601 time.") from None
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=dt.UTC)
    frontends_raw = data.get("frontends")
    if not isinstance(frontends_raw, list):
        raise _bad("frontends must be a list.")
    if len(frontends_raw) > MAX_FRONTENDS:
        raise _bad(f"A report may list at most {MAX_FRONTENDS} frontends.")
    app_ids = routes() if callable(routes) else routes
    frontends: list[Any] = []
    by_app: dict[int, list[EdgeFrontend]] = {}
    per_app: dict[int, int] = {}
    unknown: list[str] = []
    seen: set[str] = set()
    # The happy path builds no message: an edge sends thousands of frontends a second.
    for index, item in enumerate(frontends_raw):
        if not isinstance(item, dict):
            raise _bad(f"frontends[{index}] must be an object.")
        raw = item.get("hostname")
        hostname = _valid_hostnames.get(raw) if isinstance(raw, str) else None
        if hostname is None:
            hostname = _hostname(raw, f"frontends[{index}].hostname")
        if hostname in seen:
            raise _bad(f"frontends[{index}].hostname {hostname} is listed twice.")
        seen.add(hostname)
        connections = item.get("connections")
        if type(connections) is not int or not 0 <= connections <= MAX_COUNT:
            _count(connections, f"frontends[{index}].connections")
        websockets = item.get("websockets", 0)
        if type(websockets) is not int or not 0 <= websockets <= MAX_COUNT:
            _count(websockets, f"frontends[{index}].websockets")
        if websockets > connections:
            raise _bad(f"frontends[{index}].websockets cannot exceed its connections.")
        backends = item.get("backends")
        backends = () if backends is None else _backends(backends, index)
        if app_ids is None:
            frontends.append(_frontend((hostname, connections, websockets, backends)))
            continue
        app_id = app_ids.get(hostname)
        row = edge_frontend((hostname, app_id, connections, websockets, backends))
        frontends.append(row)
        if app_id is None:
            unknown.append(hostname)
        elif (rows := by_app.get(app_id)) is None:
            by_app[app_id] = [row]
            per_app[app_id] = connections
        else:
            rows.append(row)
            per_app[app_id] += connections
    if app_ids is None:
        return Report(edge=edge, seq=seq, sent_at=sent_at, frontends=frontends)
    routed = Routed(app_ids, tuple(frontends), by_app, per_app, unknown)
    return Report(edge=edge, seq=seq, sent_at=sent_at, frontends=[], routed=routed)


@dataclass(frozen=True)
class ConfigStatus:
    status: str
    etag: str
    message: str


CONFIG_STATUSES = ("applied", "rejected")


def parse_config_status(body: bytes, content_type: str) -> ConfigStatus:
    """{"status": "applied" | "rejected", "etag": "...", "message": "haproxy -c said ..."}"""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the status as application/json.")
    if len(body) > 64 * 1024:
        raise ApiError(413, "payload_too_large", "A configuration status is at most 64 KiB.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _bad("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _bad("The status must be a JSON object.")
    status = data.get("status")
    if status not in CONFIG_STATUSES:
        raise _bad(f"status must be one of {', '.join(CONFIG_STATUSES)}.")
    etag = data.get("etag")
    valid = isinstance(etag, str) and 0 < len(etag) <= 80 and etag.isascii()
    if not valid or not etag.isprintable():
        raise _bad("etag must be the ETag of the configuration the edge was served.")
    message = data.get("message", "")
    if not isinstance(message, str):
        raise _bad("message must be text.")
    # What haproxy -c printed: keep printable lines, cap the size.
    message = "".join(c for c in message[:4000] if c.isprintable() or c in "\n\t")
    return ConfigStatus(status=status, etag=etag, message=message)
