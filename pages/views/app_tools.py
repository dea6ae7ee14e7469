"""App-page tools: check DNS now, and test a WebSocket from the browser."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard.models import App, AuditEvent, Domain
from edges.services.dns_checks import check_domains
from shared.csp import websocket_test_policy


@require_POST
def app_dns_check(request: HttpRequest, name: str) -> HttpResponse:
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    checked = check_domains(app.domains.all(), actor=request.user, source=AuditEvent.Source.WEB)
    if not checked:
        messages.info(request, f"{app.name} has no custom domains to check.")
    else:
        problems = [d for d in checked if d.dns_status != Domain.DnsStatus.OK]
        level = messages.WARNING if problems else messages.SUCCESS
        summary = ", ".join(f"{d.hostname}: {d.get_dns_status_display()}" for d in checked)
        messages.add_message(request, level, f"DNS checked. {summary}.")
    return redirect(f"{app.get_absolute_url()}#readiness")


@require_GET
def app_websocket_test(request: HttpRequest, name: str) -> HttpResponse:
    """A page whose script opens a socket from the user's browser; the server probes nothing."""
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    hostnames = list(app.domains.order_by("kind", "hostname").values_list("hostname", flat=True))
    urls = [f"{scheme}://{host}/" for host in hostnames for scheme in ("wss", "ws")]
    response = render(request, "dashboard/websocket_test.html", {"app": app, "urls": urls})
    response["Content-Security-Policy"] = websocket_test_policy()
    return response
