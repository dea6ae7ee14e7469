"""Token authentication for the Platform API (Bearer, or Basic with the token as password)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from dashboard.api.errors import ApiError
from dashboard.models import ApiToken
from dashboard.tokens import hash_token

# Record a token's last use at most this often, so reads do not write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

UNAUTHORIZED = ApiError(
    401,
    "unauthorized",
    "Invalid credentials provided.",
    headers={"WWW-Authenticate": 'Bearer realm="platform-api"'},
)


def _token_from_header(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, _, password = decoded.partition(":")
        return password or None
    return None


def authenticate(request: HttpRequest) -> Any:
    """The user the request's token belongs to; raises 401 for a missing, bad or revoked one."""
    raw = _token_from_header(request.headers.get("Authorization", ""))
    if not raw or len(raw) > 200:
        raise UNAUTHORIZED
    token = (
        ApiToken.objects.active().select_related("user").filter(token_hash=hash_token(raw)).first()
    )
    if token is None:
        raise UNAUTHORIZED
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    request.api_token = token  # type: ignore[attr-defined]
    return token.user
