"""Per-app edge answers on the Platform API (not part of Heroku's): readiness and live counts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from dashboard.api.base import api_view, by_id_or_name
from dashboard.models import App
from edges.counts import connections_json
from edges.services.readiness import readiness_json
from shared.errors import APP_NOT_FOUND


def _app(user: Any, app: str) -> App:
    queryset = App.objects.visible_to(user).select_related("organization")
    return by_id_or_name(queryset, app, message=APP_NOT_FOUND)  # type: ignore[return-value]


@api_view("GET")
def app_websocket_readiness(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    return JsonResponse(readiness_json(_app(user, app)))


@api_view("GET")
def app_connections(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    return JsonResponse(connections_json(_app(user, app)))
