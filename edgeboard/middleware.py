"""Send Platform API clients to the API's URLs, whatever path they ask for, give each of their
answers a Request-Id and log one access line per Platform API call with it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse

from shared import request_id
from shared.errors import handler404

API_URLCONF = "edgeboard.api_urls"
INGEST_PREFIX = "/ingest/"
# daphne's own access lines cannot carry the request id: this logger writes the API's. Edges'
# ingest calls, many a second, write none (their reports have a door of their own that logs
# only failures, like this one's handlers).
access_log = logging.getLogger("edgeboard.access")


def is_api_request(request: HttpRequest) -> bool:
    """Heroku clients send `Accept: application/vnd.heroku+json; version=3`; scripts may only
    send a token. Browsers send neither, so pages and the API can share paths like /apps.
    Edges' ingest endpoints answer in JSON whatever the edge sends."""
    if request.path.startswith(INGEST_PREFIX):
        return True
    if "application/vnd.heroku+json" in request.headers.get("Accept", ""):
        return True
    authorization = request.headers.get("Authorization", "")
    return authorization.startswith(("Bearer ", "Basic "))


class PlatformApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        request.urlconf = API_URLCONF
        rid = request_id.request_id(request.headers.get(request_id.HEADER))
        request.request_id = rid  # type: ignore[attr-defined]
        started = time.monotonic()
        with request_id.request_id_context(rid):
            response = self.get_response(request)
            if not request.path.startswith(INGEST_PREFIX):
                access_log.info(
                    "%s %s %s %.0fms",
                    request.method,
                    request.path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
        response[request_id.HEADER] = rid
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view's Http404 is JSON too: under DEBUG Django would answer its technical page."""
        if isinstance(exception, Http404) and is_api_request(request):
            return handler404(request, exception)
        return None
