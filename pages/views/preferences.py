"""A user's own preferences: the theme, chosen in the header of every page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard.models import AuditEvent
from dashboard.services.preferences import preferences_set_theme


@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    try:
        preferences_set_theme(
            user=request.user,
            theme=request.POST.get("theme", ""),
            actor=request.user,
            source=AuditEvent.Source.WEB,
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    # Back to the page the switch was pressed on (the header's form names no page: a page that
    # echoed its own address would tell an existing object from a missing one).
    back = request.POST.get("next") or request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    return redirect(back)
