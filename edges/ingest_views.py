"""POST /ingest/v1/reports: edges report what they carry, authenticated by their ingest token."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from dashboard.api.errors import ApiError
from dashboard.api.ratelimit import rate_limit
from dashboard.tokens import hash_token
from edges.ingest import MAX_BODY_BYTES, IngestError, parse_report
from edges.models import Edge
from edges.reports import report_apply


def _error(error: IngestError) -> JsonResponse:
    response = JsonResponse({"id": error.error_id, "message": error.message}, status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ingest"'
    for name, value in error.headers.items():
        response[name] = value
    return response


def edge_for_token(request: HttpRequest) -> Edge:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise IngestError(401, "unauthorized", "Send the edge's ingest token as a Bearer token.")
    edge = Edge.objects.filter(ingest_token_hash=hash_token(token)).first()
    if edge is None:
        raise IngestError(401, "unauthorized", "Invalid ingest token.")
    return edge


@csrf_exempt
@login_not_required
def ingest_report(request: HttpRequest) -> JsonResponse:
    try:
        if request.method != "POST":
            raise IngestError(405, "method_not_allowed", "POST the report.")
        edge = edge_for_token(request)
        try:
            rate_limit("ingest", str(edge.pk), settings.INGEST_RATE_LIMIT_PER_MINUTE)
        except ApiError as limited:
            raise IngestError(
                429,
                "rate_limit",
                "Too many reports from this edge: slow down.",
                headers=limited.headers,
            ) from None
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES:
            raise IngestError(413, "payload_too_large", "A report may be at most 1 MiB.")
        report = parse_report(request.body, request.content_type or "")
        if report.edge != edge.name:
            raise IngestError(
                403, "forbidden", f"This token belongs to edge {edge.name}, not {report.edge}."
            )
        result = report_apply(edge=edge, report=report)
    except IngestError as error:
        return _error(error)
    if not result.applied:
        return JsonResponse({"ignored": True, "last_seq": result.last_seq}, status=200)
    return JsonResponse(
        {"accepted": result.accepted, "unknown_hostnames": result.unknown_hostnames}, status=202
    )
