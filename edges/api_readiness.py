from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from dashboard.api.base import api_view, by_id_or_name
from dashboard.api.errors import APP_NOT_FOUND
from dashboard.models import App
from edges.readiness import readiness_json


@api_view("GET")
def app_websocket_readiness(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    target = by_id_or_name(
        App.objects.visible_to(user).select_related("organization"), app, message=APP_NOT_FOUND
    )
    return JsonResponse(readiness_json(target))  # type: ignore[arg-type]
