"""Custom domains from the app page: added and removed (after a confirmation) through the same
service as the Platform API, with or without JavaScript; a removal can be undone for a short
while."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard import access
from dashboard.models import App, AuditEvent, Domain
from dashboard.services.domains import domain_add, domain_remove, domain_restore
from pages.views.apps import render_domains_panel

SOURCE = AuditEvent.Source.WEB


def _done(request: HttpRequest, app: App, notice: str) -> HttpResponse:
    if request.htmx:
        return render_domains_panel(request, app, notice=notice)
    messages.success(request, notice)
    return redirect(f"{app.get_absolute_url()}#domains-panel")


def _refused(request: HttpRequest, app: App, error: Exception, value: str) -> HttpResponse:
    if isinstance(error, PermissionDenied):
        return render_domains_panel(request, app, status=403, error=str(error), value=value)
    message = error.messages[0]  # type: ignore[attr-defined]
    return render_domains_panel(request, app, status=422, error=message, value=value)


@require_POST
def app_domain_add(request: HttpRequest, name: str) -> HttpResponse:
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    hostname = request.POST.get("hostname", "")[:253]
    if not hostname.strip():
        return _refused(request, app, ValidationError("Type the hostname to add."), hostname)
    try:
        domain = domain_add(app=app, hostname=hostname, actor=request.user, source=SOURCE)
    except (PermissionDenied, ValidationError) as error:
        return _refused(request, app, error, hostname)
    return _done(
        request,
        app,
        f"Added {domain.hostname}: point its CNAME at {domain.edge.hostname}.",
    )


@require_POST
def app_domain_remove(request: HttpRequest, name: str) -> HttpResponse:
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    hostname = request.POST.get("hostname", "")[:253]
    domain = Domain.objects.filter(app=app, hostname=hostname, kind=Domain.Kind.CUSTOM).first()
    if domain is None:
        raise Http404
    if request.POST.get("confirmed") != "yes" and access.can_change_domains(request.user, app):
        # Asked in the browser with JavaScript; without, the panel asks.
        return render_domains_panel(request, app, confirm=domain.hostname)
    try:
        removal = domain_remove(domain=domain, actor=request.user, source=SOURCE)
    except (PermissionDenied, ValidationError) as error:
        return _refused(request, app, error, "")
    if request.htmx:
        return render_domains_panel(request, app, removal=removal)
    return redirect(f"{app.get_absolute_url()}?domain_removed={removal.pk}#domains-panel")


@require_POST
def app_domain_restore(request: HttpRequest, name: str) -> HttpResponse:
    """Undo a removal: the same hostname again, if no one took it since."""
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    try:
        domain = domain_restore(
            app=app,
            removal_id=request.POST.get("removal", "")[:20],
            actor=request.user,
            source=SOURCE,
        )
    except PermissionDenied as error:
        return _refused(request, app, error, "")
    except ValidationError as error:
        return render_domains_panel(request, app, status=422, undo_error=error.messages[0])
    return _done(
        request, app, f"Brought back {domain.hostname}: it goes through {domain.edge.name} again."
    )
