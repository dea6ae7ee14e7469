"""Server errors: a database outage is a 503 the client may retry; anything else a plain 500.

Both pages render without the database, the session or the signed-in user.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt

from edgeboard.middleware import is_api_request
from shared.errors import (
    RETRY_AFTER_SECONDS,
    api_server_error,
    database_unavailable,
    handler404,
)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return api_server_error()
    if database_unavailable():
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(render_to_string("500.html"), status=500)


@csrf_exempt
@login_not_required
@no_append_slash
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any path the API does not know, whatever the method and DEBUG: JSON `not_found`."""
    return handler404(request)
