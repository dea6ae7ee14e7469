"""A user's own Platform API tokens: create (shown once, with an optional expiry), see prefix,
expiry and last use, revoke (undone for a short while)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.models import ApiToken, AuditEvent
from dashboard.services.tokens import (
    api_token_create,
    api_token_restore,
    api_token_revoke,
    may_restore,
    token_expiry,
)
from dashboard.services.undo import undo_deadline
from pages.tables import TABLES, paginate

TOKENS_PER_PAGE = 50

SOURCE = AuditEvent.Source.WEB


def _just_revoked(request: HttpRequest) -> dict[str, Any] | None:
    """The token the user has just revoked (`?revoked=<pk>`), while they may still undo it."""
    pk = request.GET.get("revoked", "")
    if not pk.isdigit():
        return None
    token = ApiToken.objects.visible_to(request.user).filter(pk=int(pk)).first()
    if token is None or not may_restore(request.user, token):
        return None
    return {"token": token, "until": undo_deadline(token.revoked_at)}  # type: ignore[arg-type]


def _render(
    request: HttpRequest,
    *,
    new_token: str = "",
    errors: dict[str, str] | None = None,
    confirm: ApiToken | None = None,
    undo_error: str = "",
    status: int = 200,
) -> HttpResponse:
    sorting = TABLES["tokens"].sorting(request.GET)
    errors = errors or {}
    form = request.POST if errors else {}
    context = {
        "tokens": paginate(
            ApiToken.objects.visible_to(request.user).order_by(*sorting.order_by),
            request.GET,
            TOKENS_PER_PAGE,
            "tokens",
        ),
        "new_token": new_token,
        "confirm_token": confirm,
        "revoked": _just_revoked(request),
        "undo_error": undo_error,
        "errors": errors,
        "label": form.get("label", ""),
        "expires": form.get("expires", "never"),
        "expires_on": form.get("expires_on", ""),
    }
    # The page holds a secret once: keep it out of caches and history.
    response = render(request, "dashboard/token_list.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _field_errors(error: ValidationError) -> dict[str, str]:
    if hasattr(error, "error_dict"):
        return {field: errors[0].messages[0] for field, errors in error.error_dict.items()}
    return {"label": error.messages[0]}


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request)
    try:
        expires_at = token_expiry(
            request.POST.get("expires", "never"), request.POST.get("expires_on", "")[:20]
        )
        _, raw = api_token_create(
            user=request.user,
            label=request.POST.get("label", "")[:100],
            expires_at=expires_at,
            actor=request.user,
            source=SOURCE,
        )
    except ValidationError as error:
        return _render(request, errors=_field_errors(error), status=422)
    return _render(request, new_token=raw, status=201)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.visible_to(request.user), pk=pk)
    if token.revoked_at is None and request.POST.get("confirmed") != "yes":
        # Asked in the browser with JavaScript; without, the page asks.
        return _render(request, confirm=token)
    api_token_revoke(token=token, actor=request.user, source=SOURCE)
    return redirect(f"{reverse('tokens')}?revoked={token.pk}#token-undo")


@require_POST
def token_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a revocation the user has just made: the same token works again."""
    token = get_object_or_404(ApiToken.objects.visible_to(request.user), pk=pk)
    try:
        api_token_restore(token=token, actor=request.user, source=SOURCE)
    except PermissionDenied as error:
        return _render(request, undo_error=str(error), status=403)
    except ValidationError as error:
        return _render(request, undo_error=error.messages[0], status=409)
    messages.success(request, f"{token.prefix}… ({token.label}) works again.")
    return redirect("tokens")
