"""Token authentication for the Platform API (Bearer, or Basic with the token as password)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest

from dashboard.models import ApiToken
from dashboard.services.tokens import api_token_mark_used
from shared.errors import ApiError
from shared.secret_tokens import hash_token

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
    api_token_mark_used(token=token)
    request.api_token = token  # type: ignore[attr-defined]
    return token.user
