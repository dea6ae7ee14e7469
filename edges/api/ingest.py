"""What edge agents call, authenticated by their edge's ingest token: POST a report of what the
edge carries, GET the proxy configuration to run, POST whether the proxy took it."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from edges.api.ingest_payloads import MAX_BODY_BYTES, parse_config_status, parse_report
from edges.models import Edge
from edges.services.edges import edge_config_status_record
from edges.services.proxy_config import CONTENT_TYPES, ConfigError, etag_of, render
from edges.services.reports import LiveStateDown, report_apply, routing, token_edges
from shared import ratelimit
from shared.errors import ApiError
from shared.secret_tokens import hash_token

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ingest"'}
RETRY_AFTER_SECONDS = 2


def edge_for_token(request: HttpRequest) -> Edge:
    return edge_for_authorization(request.headers.get("Authorization", ""))


def edge_for_authorization(authorization: str) -> Edge:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise ApiError(
            401,
            "unauthorized",
            "Send the edge's ingest token as a Bearer token.",
            headers=CHALLENGE,
        )
    edge = token_edges.edge(hash_token(token))
    if edge is None:
        raise ApiError(401, "unauthorized", "Invalid ingest token.", headers=CHALLENGE)
    return edge


def _limit(edge: Edge) -> None:
    """Reports, configuration polls and statuses share the edge's per-minute budget."""
    try:
        ratelimit.hit("ingest", str(edge.pk), settings.INGEST_RATE_LIMIT_PER_MINUTE)
    except ratelimit.RateLimited as limited:
        raise ApiError(
            429,
            "rate_limit",
            "Too many requests from this edge: slow down.",
            headers=limited.headers,
        ) from None


@csrf_exempt
@login_not_required
def ingest_report(request: HttpRequest) -> JsonResponse:
    """Django's door to the report endpoint (the test client's, and any server without the
    direct path of edges.api.ingest_asgi, which daphne serves it through)."""
    return receive_report(
        method=request.method or "",
        authorization=request.headers.get("Authorization", ""),
        declared_length=request.headers.get("Content-Length"),
        content_type=request.content_type or "",
        body=lambda: request.body,
    )


def too_large() -> bytes:
    raise ApiError(413, "payload_too_large", "A report may be at most 1 MiB.")


def receive_report(
    *,
    method: str,
    authorization: str,
    declared_length: str | None,
    content_type: str,
    body: Callable[[], bytes],
) -> JsonResponse:
    """POST /ingest/v1/reports: authenticate the edge, check its budget, the size and the
    report, and apply it. `body` is read only once the edge is known and within budget."""
    try:
        if method != "POST":
            raise ApiError(405, "method_not_allowed", "POST the report.")
        edge = edge_for_authorization(authorization)
        _limit(edge)
        try:
            declared = int(declared_length or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES:
            too_large()
        # Checked and routed to its apps in one pass (the map is the process's, kept a while).
        report = parse_report(body(), content_type, lambda: routing.of(edge).app_ids)
        if report.edge != edge.name:
            raise ApiError(
                403, "forbidden", f"This token belongs to edge {edge.name}, not {report.edge}."
            )
        try:
            result = report_apply(edge=edge, report=report)
        except LiveStateDown:
            # A report is the edge's whole state: the next one after the outage restores it.
            raise ApiError(
                503,
                "unavailable",
                "The live state is unavailable; send the next report in a few seconds.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from None
    except ApiError as error:
        return error.response()
    if not result.applied:
        return JsonResponse({"ignored": True, "last_seq": result.last_seq}, status=200)
    return JsonResponse(
        {"accepted": result.accepted, "unknown_hostnames": result.unknown_hostnames}, status=202
    )


def _authorized_edge(request: HttpRequest, name: str) -> Edge:
    """The token's edge, which must be the one named in the URL; rate limited like reports."""
    edge = edge_for_token(request)
    if edge.name != name:
        raise ApiError(403, "forbidden", f"This token belongs to edge {edge.name}, not {name}.")
    _limit(edge)
    return edge


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return etag in candidates or "*" in candidates


@csrf_exempt
@login_not_required
def agent_config(request: HttpRequest, name: str) -> HttpResponse:
    """GET /ingest/v1/edges/{name}/config?format=haproxy|hipache: the edge's routing, with an
    ETag so a polling agent downloads it only when it changed."""
    try:
        if request.method not in ("GET", "HEAD"):
            raise ApiError(405, "method_not_allowed", "GET the configuration.")
        edge = _authorized_edge(request, name)
        fmt = request.GET.get("format", "haproxy")
        try:
            body = render(
                edge,
                fmt,
                stats_socket=request.GET.get("stats_socket"),
                bind=request.GET.get("bind"),
            )
        except ConfigError as invalid:
            raise ApiError(400, "bad_request", str(invalid)) from None
    except ApiError as error:
        return error.response()
    etag = etag_of(body)
    if _etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@csrf_exempt
@login_not_required
def agent_config_status(request: HttpRequest, name: str) -> JsonResponse:
    """POST /ingest/v1/edges/{name}/config-status: the agent says whether the proxy took the
    configuration with that ETag, or why it refused it."""
    try:
        if request.method != "POST":
            raise ApiError(405, "method_not_allowed", "POST the configuration status.")
        edge = _authorized_edge(request, name)
        status = parse_config_status(request.body, request.content_type or "")
    except ApiError as error:
        return error.response()
    edge_config_status_record(
        edge=edge, status=status.status, etag=status.etag, message=status.message
    )
    return JsonResponse({"recorded": True}, status=202)
