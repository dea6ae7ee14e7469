"""Signing out also closes the live sockets of that browser session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse

from dashboard import realtime


class LogoutClosingSockets(LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user_id = request.user.pk if request.user.is_authenticated else None
        session_key = request.session.session_key
        response = super().post(request, *args, **kwargs)
        if user_id is not None and session_key:
            realtime.publish(
                realtime.user_topic(user_id), realtime.ACCESS_CHANGED, {"session": session_key}
            )
        return response
