"""Idempotency-Key on the API's POST, PATCH and DELETE: a client that lost an answer retries with
the same key and gets the first answer again instead of a second change.

The key is claimed in its own transaction before the view runs, so two concurrent retries
cannot both run it: the second is told the first is still in progress (409). A retry with the
same key but another method, path or body is a client bug and answers 422. Answers of 5xx are
not kept, so the retry runs again. Keys are the client's per account and expire after a day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboard.models import IdempotencyKey
from shared.errors import ApiError

HEADER = "Idempotency-Key"
METHODS = ("POST", "PATCH", "DELETE")
KEEP = dt.timedelta(hours=24)
MAX_KEY = 255


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path(), request.body):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        row.response_body, status=row.status_code, content_type=row.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(request: HttpRequest, user: Any, run: Callable[[], HttpResponse]) -> HttpResponse:
    """Run the view once per (account, key); answer the stored response to retries."""
    key = request.headers.get(HEADER)
    if key is None or request.method not in METHODS:
        return run()
    if not 0 < len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        raise ApiError(
            400, "bad_request", f"{HEADER} must be 1-{MAX_KEY} printable ASCII characters."
        )
    fingerprint = _fingerprint(request)
    now = timezone.now()
    IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=now - KEEP).delete()
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        row = IdempotencyKey.objects.get(user=user, key=key)
        if row.fingerprint != fingerprint:
            raise ApiError(
                422,
                "invalid_params",
                f"This {HEADER} was already used for another request: use a new key.",
            ) from None
        if row.status_code is None:
            raise ApiError(
                409, "conflict", f"A request with this {HEADER} is still in progress."
            ) from None
        return _replay(row)
    try:
        response = run()
    except BaseException:
        row.delete()
        raise
    if response.status_code >= 500 or getattr(response, "streaming", False):
        row.delete()
        return response
    row.status_code = response.status_code
    row.content_type = response.get("Content-Type", "application/json")
    row.response_body = bytes(response.content)
    row.save(update_fields=["status_code", "content_type", "response_body"])
    return response
