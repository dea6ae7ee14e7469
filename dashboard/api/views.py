"""Heroku Platform API v3 endpoints: account, apps, features, domains and back-ends (teams and
their members are in `teams`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from dashboard.api.base import (
    api_rate_remaining,
    api_view,
    app_for,
    app_list_answer,
    by_id_or_name,
    json_body,
    visible_apps,
)
from dashboard.api.pagination import paginate
from dashboard.api.serializers import (
    account_json,
    app_json,
    domain_json,
    feature_json,
    timestamp,
)
from dashboard.models import App, AuditEvent, Backend, Domain, Feature
from dashboard.models.features import FeatureState, account_feature_states, app_feature_states
from dashboard.services.apps import backend_add, backend_remove
from dashboard.services.domains import domain_add, domain_remove
from dashboard.services.features import FeatureRefused, account_feature_set, feature_set
from shared.errors import (
    BACKEND_NOT_FOUND,
    DOMAIN_NOT_FOUND,
    FEATURE_NOT_FOUND,
    ApiError,
    invalid_params,
    not_found,
)

EXPERIMENTAL_WARNING = "This feature is experimental and may change or be removed without notice."
SOURCE = AuditEvent.Source.API


def page_url(name: str, *args: str) -> str:
    """A dashboard page's path; the API's own URL conf does not hold the pages."""
    return reverse(name, args=args, urlconf=settings.ROOT_URLCONF)


def _with_warning(response: HttpResponse, feature: Feature) -> HttpResponse:
    if feature.state != Feature.State.GENERAL:
        response["Warning-Message"] = EXPERIMENTAL_WARNING
    return response


def _enabled_param(body: dict[str, Any]) -> bool:
    """`enabled` as a boolean; the integers 1 and 0 too, which heroku3 (a Python client) sends
    for true and false. Anything else is refused rather than guessed at."""
    enabled = body.get("enabled")
    if isinstance(enabled, bool):
        return enabled
    if type(enabled) is int and enabled in (0, 1):
        return enabled == 1
    raise invalid_params("enabled must be a boolean: true or false (1 and 0 are accepted too).")


def _reason_shared_param(body: dict[str, Any]) -> bool | None:
    """`reason_shared` (ours, not Heroku's): whether the app's organization may read the reason."""
    if "reason_shared" not in body:
        return None
    if isinstance(body["reason_shared"], bool):
        return body["reason_shared"]
    raise invalid_params("reason_shared must be a boolean: true or false.")


def _state(states: list[FeatureState], id_or_name: str) -> FeatureState:
    for state in states:
        if id_or_name in (state.feature.name, str(state.feature.uuid)):
            return state
    raise ApiError(404, "not_found", FEATURE_NOT_FOUND)


# Account


@api_view("GET")
def account(request: HttpRequest, user: Any) -> JsonResponse:
    return JsonResponse(account_json(user))


@api_view("GET", counted=False)
def account_rate_limits(request: HttpRequest, user: Any) -> JsonResponse:
    """Heroku's rate-limit resource: the calls left, read from the limiter that answers 429."""
    return JsonResponse({"remaining": api_rate_remaining(user.pk)})


@api_view("GET")
def account_feature_list(request: HttpRequest, user: Any) -> JsonResponse:
    return JsonResponse([feature_json(s) for s in account_feature_states(user)], safe=False)


@api_view("GET", "PATCH")
def account_feature_detail(request: HttpRequest, user: Any, id_or_name: str) -> HttpResponse:
    state = _state(account_feature_states(user), id_or_name)
    if request.method == "PATCH":
        body = json_body(request)
        enabled = _enabled_param(body)
        account_feature_set(
            user=user,
            feature=state.feature,
            enabled=enabled,
            actor=user,
            source=SOURCE,
            reason=str(body.get("reason", ""))[:500],
        )
        state = _state(account_feature_states(user), id_or_name)
        return _with_warning(JsonResponse(feature_json(state)), state.feature)
    return JsonResponse(feature_json(state))


# Apps and teams


@api_view("GET")
def app_list(request: HttpRequest, user: Any) -> JsonResponse:
    return app_list_answer(request, visible_apps(user))


@api_view("GET")
def app_detail(request: HttpRequest, user: Any, id_or_name: str) -> JsonResponse:
    return JsonResponse(app_json(app_for(user, id_or_name)))


@api_view("GET")
def app_empty_list(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    """Add-ons, dynos and SNI endpoints: the platform has none of these to report."""
    app_for(user, app)
    return JsonResponse([], safe=False)


@api_view("GET")
def app_pipeline_coupling(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    """No app here is in a pipeline. Heroku answers a 404 for such an app, which `heroku
    apps:info` expects and ignores (an empty list would be read as a coupling and crash it)."""
    app_for(user, app)
    raise ApiError(404, "not_found", "Couldn't find that pipeline coupling.")


# App features


@api_view("GET")
def app_feature_list(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    states = app_feature_states(app_for(user, app))
    return JsonResponse([feature_json(s) for s in states], safe=False)


@api_view("GET", "PATCH")
def app_feature_detail(request: HttpRequest, user: Any, app: str, id_or_name: str) -> HttpResponse:
    target = app_for(user, app)
    state = _state(app_feature_states(target), id_or_name)
    if request.method == "GET":
        return JsonResponse(feature_json(state))
    body = json_body(request)
    enabled = _enabled_param(body)
    reason_shared = _reason_shared_param(body)
    try:
        feature_set(
            app=target,
            feature=state.feature,
            enabled=enabled,
            actor=user,
            source=SOURCE,
            reason=str(body.get("reason", ""))[:500],
            reason_shared=reason_shared,
        )
    except FeatureRefused as refusal:
        edges = refusal.blocking_edges
        url = request.build_absolute_uri(page_url("edge-detail", edges[0].name)) if edges else None
        raise invalid_params(refusal.messages[0], url=url) from None
    state = _state(app_feature_states(target), id_or_name)
    return _with_warning(JsonResponse(feature_json(state)), state.feature)


# Domains


def _domains(user: Any, app: App) -> QuerySet[Domain]:
    return Domain.objects.visible_to(user).filter(app=app).select_related("app", "edge")


@api_view("GET", "POST")
def domain_list(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    target = app_for(user, app)
    if request.method == "POST":
        body = json_body(request)
        hostname = body.get("hostname")
        if not isinstance(hostname, str) or not hostname.strip():
            raise invalid_params("hostname is required.")
        domain = domain_add(app=target, hostname=hostname, actor=user, source=SOURCE)
        return JsonResponse(domain_json(domain), status=201)
    return paginate(
        request,
        _domains(user, target),
        # heroku3 asks for `domain ..;`, which Heroku answers in hostname order.
        fields={"hostname": "hostname", "id": "uuid", "domain": "hostname"},
        serialize=domain_json,
        value_of=lambda d, field: str(d.uuid) if field == "id" else d.hostname,
    )


@api_view("GET", "DELETE")
def domain_detail(request: HttpRequest, user: Any, app: str, id_or_hostname: str) -> JsonResponse:
    target = app_for(user, app)
    domain = by_id_or_name(
        _domains(user, target), id_or_hostname, name_field="hostname", message=DOMAIN_NOT_FOUND
    )
    if request.method == "DELETE":
        body = domain_json(domain)  # type: ignore[arg-type]
        domain_remove(domain=domain, actor=user, source=SOURCE)  # type: ignore[arg-type]
        return JsonResponse(body)
    return JsonResponse(domain_json(domain))  # type: ignore[arg-type]


def backend_json(backend: Backend) -> dict[str, Any]:
    return {
        "address": backend.address,
        "host": backend.host,
        "port": backend.port,
        "app": {"id": str(backend.app.uuid), "name": backend.app.name},
        "created_at": timestamp(backend.created_at),
    }


def _backend(user: Any, app: App, address: str) -> Backend:
    backend = Backend.objects.visible_to(user).filter(app=app).select_related("app").at(address)
    if backend is None:
        raise not_found(BACKEND_NOT_FOUND)
    return backend


@api_view("GET", "POST")
def backend_list(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    """The app's web processes, which edges route its hostnames to. Staff add them."""
    target = app_for(user, app)
    if request.method == "POST":
        address = json_body(request).get("address")
        if not isinstance(address, str) or not address.strip():
            raise invalid_params("address is required, as host:port.")
        backend = backend_add(app=target, address=address, actor=user, source=SOURCE)
        return JsonResponse(backend_json(backend), status=201)
    backends = Backend.objects.visible_to(user).filter(app=target).select_related("app")
    return JsonResponse([backend_json(b) for b in backends], safe=False)


@api_view("GET", "DELETE")
def backend_detail(request: HttpRequest, user: Any, app: str, address: str) -> JsonResponse:
    backend = _backend(user, app_for(user, app), address)
    body = backend_json(backend)
    if request.method == "DELETE":
        backend_remove(backend=backend, actor=user, source=SOURCE)
    return JsonResponse(body)
