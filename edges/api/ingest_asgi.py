"""Edges' reports, served beside Django's request stack.

Under ASGI, Django runs every synchronous view and middleware on one thread per process, so the
edges' reports queued behind each other (and behind every page) while each waited on Redis and
PostgreSQL. Here a POST to the report endpoint is read on the event loop and applied on one of
INGEST_THREADS threads of its own, side by side; it goes through the same function as Django's
door (edges.api.ingest.receive_report) and answers with the same headers. Anything else, and any
request Django would answer differently before the view (a host it does not serve, plain HTTP
where HTTPS is required), goes to Django unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host

from edges.api.ingest import receive_report, too_large
from edges.api.ingest_payloads import MAX_BODY_BYTES
from shared import bus, request_id
from shared.csp import OTHER_HEADERS, POLICY
from shared.errors import api_server_error

logger = logging.getLogger(__name__)

PATH = "/ingest/v1/reports"

_threads: ThreadPoolExecutor | None = None


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _secure(scope: dict[str, Any], headers: dict[str, str]) -> bool:
    if scope.get("scheme") == "https":
        return True
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower()
        return headers.get(name, "").split(",")[0].strip() == proxy[1]
    return False


def _host_allowed(headers: dict[str, str]) -> bool:
    """Django's own check of the Host header (ALLOWED_HOSTS, and its defaults under DEBUG)."""
    domain, _ = split_domain_port(headers.get("host", ""))
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _security_headers(secure: bool) -> list[tuple[str, str]]:
    """What Django's middleware adds to an ingest answer (see edgeboard.settings.MIDDLEWARE)."""
    added = [
        ("X-Frame-Options", settings.X_FRAME_OPTIONS),
        ("Content-Security-Policy", POLICY),
        *OTHER_HEADERS.items(),
    ]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        added.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        added.append(("Referrer-Policy", settings.SECURE_REFERRER_POLICY))
    if secure and settings.SECURE_HSTS_SECONDS:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        added.append(("Strict-Transport-Security", value))
    return added


def _apply(headers: dict[str, str], body: bytes | None) -> HttpResponse:
    """The report's answer, on an ingest thread; an unexpected failure answers as Django's
    handler would (JSON 500, or 503 when the database is out of reach) and is logged."""
    try:
        return receive_report(
            method="POST",
            authorization=headers.get("authorization", ""),
            declared_length=headers.get("content-length"),
            content_type=headers.get("content-type", "").split(";")[0].strip().lower(),
            body=(lambda: body) if body is not None else too_large,
        )
    except Exception:
        logger.exception("Internal Server Error: %s", PATH)
        return api_server_error()
    finally:
        # Give the connection back to the pool from the context that opened it (this runs in
        # a copy of the caller's context, which channels' own clean-up does not see).
        close_old_connections()


def _in_ingest_thread() -> DatabaseSyncToAsync:
    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(
            max_workers=settings.INGEST_THREADS, thread_name_prefix="ingest"
        )
    return DatabaseSyncToAsync(_apply, thread_sensitive=False, executor=_threads)


async def _read_body(receive: Any) -> tuple[bytes | None, bool]:
    """The request body (None past MAX_BODY_BYTES, the rest left unread), and whether the
    client is still there."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None, True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


class IngestReports:
    """ASGI: POST /ingest/v1/reports here, everything else to `django_app`."""

    def __init__(self, django_app: Any) -> None:
        self.django_app = django_app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.django_app(scope, receive, send)
            return
        headers = _headers(scope)
        secure = _secure(scope, headers)
        if not _host_allowed(headers) or (settings.SECURE_SSL_REDIRECT and not secure):
            await self.django_app(scope, receive, send)  # Django refuses or redirects it
            return
        body, present = await _read_body(receive)
        if not present:
            return  # the edge hung up: nothing to apply, no one to answer
        rid = request_id.request_id(headers.get(request_id.HEADER.lower()))
        # The report's event is sent from this loop while the answer goes out: the report is
        # in the live state before the 202, and no edge waits on the channel layer.
        sending = bus.send_on.set(asyncio.get_running_loop())
        try:
            with request_id.request_id_context(rid):
                response = await _in_ingest_thread()(headers, body)
                if response.status_code >= 400:
                    log = logger.error if response.status_code >= 500 else logger.warning
                    log("%s: %s", response.reason_phrase, PATH)
        finally:
            bus.send_on.reset(sending)
        # What Django's door adds: the Request-Id (edgeboard.middleware), the security headers.
        answer = [
            *((k, v) for k, v in response.items() if k.lower() != "content-length"),
            (request_id.HEADER, rid),
            *_security_headers(secure),
        ]
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer]
                + [(b"content-length", str(len(response.content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": response.content})
