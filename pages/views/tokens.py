"""A user's own Platform API tokens: create (shown once), see prefix and last use, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.models import ApiToken, AuditEvent
from dashboard.services.tokens import api_token_create, api_token_revoke
from pages.tables import TABLES, paginate

TOKENS_PER_PAGE = 50


def _render(
    request: HttpRequest,
    *,
    new_token: str = "",
    error: str = "",
    confirm: ApiToken | None = None,
    status: int = 200,
) -> HttpResponse:
    sorting = TABLES["tokens"].sorting(request.GET)
    context = {
        "tokens": paginate(
            ApiToken.objects.visible_to(request.user).order_by(*sorting.order_by),
            request.GET,
            TOKENS_PER_PAGE,
            "tokens",
        ),
        "new_token": new_token,
        "confirm_token": confirm,
        "error": error,
        "label": request.POST.get("label", "") if error else "",
    }
    # The page holds a secret once: keep it out of caches and history.
    response = render(request, "dashboard/token_list.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request)
    try:
        _, raw = api_token_create(
            user=request.user,
            label=request.POST.get("label", "")[:100],
            actor=request.user,
            source=AuditEvent.Source.WEB,
        )
    except ValidationError as error:
        return _render(request, error=error.messages[0], status=422)
    return _render(request, new_token=raw, status=201)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.visible_to(request.user), pk=pk)
    if token.revoked_at is None and request.POST.get("confirmed") != "yes":
        # Asked in the browser with JavaScript; without, the page asks.
        return _render(request, confirm=token)
    api_token_revoke(token=token, actor=request.user, source=AuditEvent.Source.WEB)
    messages.success(request, f"Revoked the token {token.prefix}… ({token.label}).")
    return redirect("tokens")
