"""Handshake guards for the dashboard's WebSockets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shared.env import parse_origin


class ExactOriginValidator:
    """Refuse a handshake unless its Origin is exactly one of the dashboard's own origins.

    No wildcards and no suffix matching: an app hostname under the platform domain, a look-alike
    such as dashboard.example.com.evil.test, `null` or a missing Origin are all refused before
    the consumer runs.
    """

    def __init__(self, application: Any, allowed_origins: Iterable[str] | None = None) -> None:
        self.application = application
        origins = settings.DASHBOARD_ORIGINS if allowed_origins is None else allowed_origins
        self.allowed = frozenset(parse_origin("allowed origin", o) for o in origins)
        if not self.allowed:
            raise ImproperlyConfigured("At least one dashboard origin is required.")

    def origin_allowed(self, scope: dict[str, Any]) -> bool:
        values = [v for k, v in scope.get("headers", []) if k == b"origin"]
        if len(values) != 1:
            return False
        try:
            origin = values[0].decode("ascii")
            return parse_origin("origin", origin) in self.allowed
        except (UnicodeDecodeError, ImproperlyConfigured, ValueError):
            return False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not self.origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
