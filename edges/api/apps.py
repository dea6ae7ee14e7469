"""Per-app edge answers on the Platform API (not part of Heroku's): readiness and live counts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from dashboard.api.base import api_view, app_for
from edges.counts import connections_json
from edges.services.readiness import readiness_json


@api_view("GET")
def app_websocket_readiness(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    return JsonResponse(readiness_json(app_for(user, app)))


@api_view("GET")
def app_connections(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    return JsonResponse(connections_json(app_for(user, app)))
