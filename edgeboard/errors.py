"""Server errors: a database outage is a 503 the client may retry; anything else a plain 500.

Both pages render without the database, the session or the signed-in user.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from edgeboard.middleware import is_api_request
from shared.errors import ApiError

RETRY_AFTER_SECONDS = 5


def database_unavailable() -> bool:
    """Whether the exception being handled says the database cannot be reached."""
    return isinstance(sys.exc_info()[1], OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    if database_unavailable():
        if is_api_request(request):
            return ApiError(
                503,
                "service_unavailable",
                "The service is temporarily unavailable; nothing was changed. Try again shortly.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ).response()
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if is_api_request(request):
        return ApiError(500, "internal_server_error", "Internal server error.").response()
    return HttpResponse(render_to_string("500.html"), status=500)
