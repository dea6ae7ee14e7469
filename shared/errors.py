"""Platform API errors: always JSON `{"id": ..., "message": ...}`, never an HTML page."""

from __future__ import annotations

import sys
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error_id: str,
        message: str,
        *,
        url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message
        self.url = url
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {"id": self.error_id, "message": self.message}
        if self.url:
            body["url"] = self.url
        response = JsonResponse(body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def not_found(message: str = "Couldn't find that resource.") -> ApiError:
    return ApiError(404, "not_found", message)


APP_NOT_FOUND = "Couldn't find that app."
FEATURE_NOT_FOUND = "Couldn't find that feature."
DOMAIN_NOT_FOUND = "Couldn't find that domain."
BACKEND_NOT_FOUND = "Couldn't find that back-end."
TEAM_NOT_FOUND = "Couldn't find that team."


def invalid_params(message: str, url: str | None = None) -> ApiError:
    return ApiError(422, "invalid_params", message, url=url)


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return not_found("The requested API endpoint was not found.").response()


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return ApiError(400, "bad_request", "The request could not be understood.").response()


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return ApiError(403, "forbidden", "You do not have access to this resource.").response()


# How long a client should wait before trying again after a database outage.
RETRY_AFTER_SECONDS = 5


def database_unavailable() -> bool:
    """Whether the exception being handled says the database cannot be reached."""
    return isinstance(sys.exc_info()[1], OperationalError | InterfaceError)


def api_server_error() -> JsonResponse:
    """A machine client's answer to the exception being handled."""
    if database_unavailable():
        return ApiError(
            503,
            "service_unavailable",
            "The service is temporarily unavailable; nothing was changed. Try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ).response()
    return ApiError(500, "internal_server_error", "Internal server error.").response()
