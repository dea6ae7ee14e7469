"""Content Security Policy: scripts and styles only from our own static files (htmx comes
bundled inside django-htmx and is served from there), sockets only back to this origin."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_BASE = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Django's admin site sets a few style attributes (collapsed fieldsets, widths of inlines).
_ADMIN = {**_BASE, "style-src": "'self' 'unsafe-inline'"}


def _header(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


POLICY = _header(_BASE)
ADMIN_POLICY = _header(_ADMIN)
# Set on every answer beside the policy (also by edges.api.ingest_asgi, which Django skips).
OTHER_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            admin = request.path.startswith("/admin/")
            response["Content-Security-Policy"] = ADMIN_POLICY if admin else POLICY
        for name, value in OTHER_HEADERS.items():
            response.setdefault(name, value)
        return response


def websocket_test_policy() -> str:
    """The Test WebSocket page lets the user's own browser open a socket to their app's
    hostnames, which are other origins."""
    return _header({**_BASE, "connect-src": "'self' ws: wss:"})
