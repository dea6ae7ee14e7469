"""Signing in (throttled) and out (closing that browser session's live sockets)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse

from dashboard.services.accounts import session_closed
from shared import ratelimit

LOCKED_OUT = (
    "Too many failed sign-ins for this account from your address. Try again in {minutes} minutes."
)


def _login_key(request: HttpRequest) -> str:
    username = str(request.POST.get("username", "")).strip().lower()[:150]
    address = request.META.get("REMOTE_ADDR", "")
    # Hash what the visitor typed: spaces, control characters or markup in a cache key are
    # refused by some caches, and must not lift the limit.
    return hashlib.sha256(f"{username}|{address}".encode()).hexdigest()


class ThrottledLoginView(LoginView):
    """Refuses further attempts after LOGIN_FAILURE_LIMIT failures within the window."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self._failures(request) >= settings.LOGIN_FAILURE_LIMIT:
            # Refuse before checking the password, so a locked account cannot be probed.
            context = self.get_context_data(form=self.form_class(request=request))
            context["lockout"] = LOCKED_OUT.format(minutes=settings.LOGIN_FAILURE_WINDOW // 60)
            response = self.render_to_response(context)
            response.status_code = 429
            response["Retry-After"] = str(settings.LOGIN_FAILURE_WINDOW)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        ratelimit.count("login", _login_key(self.request), window=settings.LOGIN_FAILURE_WINDOW)
        return super().form_invalid(form)

    def _failures(self, request: HttpRequest) -> int:
        return ratelimit.used("login", _login_key(request), window=settings.LOGIN_FAILURE_WINDOW)


class LogoutClosingSockets(LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user_id = request.user.pk if request.user.is_authenticated else None
        session_key = request.session.session_key
        response = super().post(request, *args, **kwargs)
        if user_id is not None and session_key:
            session_closed(user_id=user_id, session_key=session_key)
        return response
