"""The shell every Platform API view runs in: token auth, rate limit, JSON in and out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from dashboard.api.auth import authenticate
from dashboard.api.idempotency import idempotent
from dashboard.api.pagination import paginate
from dashboard.api.serializers import app_json
from dashboard.models import App
from shared import ratelimit
from shared.errors import APP_NOT_FOUND, ApiError, invalid_params, not_found

ApiView = Callable[..., HttpResponse]


def api_view(*methods: str, counted: bool = True) -> Callable[[ApiView], ApiView]:
    """Authenticate by token (never by session cookie, so CSRF cannot apply), count the request
    against the account's budget (unless `counted` is False: reading the budget spends none of
    it, as on Heroku) and turn every ApiError, and the services' PermissionDenied (403) and
    ValidationError (422), into its JSON answer."""

    def decorator(view: ApiView) -> ApiView:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            remaining = None

            def answer(call: Callable[[], HttpResponse]) -> HttpResponse:
                try:
                    return call()
                except ApiError as error:
                    return error.response()
                except PermissionDenied as denied:
                    return ApiError(403, "forbidden", str(denied)).response()
                except ValidationError as invalid:
                    return invalid_params(" ".join(invalid.messages)).response()

            def authenticated() -> HttpResponse:
                nonlocal remaining
                if request.method not in methods:
                    raise ApiError(
                        405,
                        "method_not_allowed",
                        f"{request.method} is not allowed here; use {', '.join(methods)}.",
                        headers={"Allow": ", ".join(methods)},
                    )
                user = authenticate(request)
                remaining = api_rate_limit(user.pk) if counted else api_rate_remaining(user.pk)
                return idempotent(
                    request, user, lambda: answer(lambda: view(request, user, *args, **kwargs))
                )

            response = answer(authenticated)
            if remaining is not None and "RateLimit-Remaining" not in response:
                response["RateLimit-Remaining"] = str(remaining)
            response["Cache-Control"] = "no-store"
            return response

        return csrf_exempt(login_not_required(wrapper))

    return decorator


def api_rate_limit(user_id: int) -> int:
    """Count the account's request; beyond its budget, Heroku's 429 answer."""
    try:
        return ratelimit.hit("api", str(user_id), settings.API_RATE_LIMIT_PER_MINUTE)
    except ratelimit.RateLimited as limited:
        raise ApiError(
            429,
            "rate_limit",
            "Your account reached the API rate limit\n"
            "Please wait a few minutes before making new requests",
            headers=limited.headers,
        ) from None


def api_rate_remaining(user_id: int) -> int:
    """What is left of the account's budget in this window, without counting a request."""
    used = ratelimit.used("api", str(user_id))
    return max(0, settings.API_RATE_LIMIT_PER_MINUTE - used)


def json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The request body must be a JSON object.")
    return body


def by_id_or_name(
    queryset: QuerySet[Any], value: str, *, name_field: str = "name", message: str
) -> Model:
    """Heroku addresses resources by UUID or by name; both answer 404 alike when unseen."""
    try:
        lookup = {"uuid": uuid.UUID(value)}
    except ValueError:
        lookup = {name_field: value}
    found = queryset.filter(**lookup).first()
    if found is None:
        raise not_found(message)
    return found


def app_for(user: Any, id_or_name: str) -> App:
    """The app a URL names, by id or name, among those the user may see (404 otherwise)."""
    return by_id_or_name(visible_apps(user), id_or_name, message=APP_NOT_FOUND)  # type: ignore[return-value]


def visible_apps(user: Any) -> QuerySet[App]:
    return App.objects.visible_to(user).select_related("organization")


def app_list_answer(
    request: HttpRequest,
    apps: QuerySet[App],
    serialize: Callable[[App], dict[str, Any]] = app_json,
) -> JsonResponse:
    """A list of apps, in Heroku's pages (by id or name)."""
    return paginate(
        request,
        apps,
        fields={"id": "uuid", "name": "name"},
        serialize=serialize,
        value_of=lambda app, field: str(app.uuid) if field == "id" else app.name,
    )
