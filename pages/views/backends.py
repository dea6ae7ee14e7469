"""Support staff maintain an app's back-ends from its page, with or without JavaScript; a
removal can be undone for a short while."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard import access
from dashboard.models import App, AuditEvent, Backend
from dashboard.services.apps import backend_add, backend_remove, backend_restore
from pages.views.apps import render_backends_panel

SOURCE = AuditEvent.Source.WEB


def _done(request: HttpRequest, app: App, notice: str) -> HttpResponse:
    if request.htmx:
        return render_backends_panel(request, app, notice=notice)
    messages.success(request, notice)
    return redirect(f"{app.get_absolute_url()}#backends-panel")


def _removed(request: HttpRequest, app: App, removal: AuditEvent) -> HttpResponse:
    """The panel says what was removed, with a button that undoes it."""
    if request.htmx:
        return render_backends_panel(request, app, removal=removal)
    return redirect(f"{app.get_absolute_url()}?removed={removal.pk}#backends-panel")


def _refused(request: HttpRequest, app: App, error: Exception, value: str) -> HttpResponse:
    status = 403 if isinstance(error, PermissionDenied) else 422
    message = str(error) if isinstance(error, PermissionDenied) else error.messages[0]
    return render_backends_panel(request, app, status=status, error=message, value=value)


@require_POST
def app_backend_add(request: HttpRequest, name: str) -> HttpResponse:
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    address = request.POST.get("address", "")[:100]
    try:
        backend = backend_add(app=app, address=address, actor=request.user, source=SOURCE)
    except (PermissionDenied, ValidationError) as error:
        return _refused(request, app, error, address)
    return _done(request, app, f"Added {backend.address}: the edges route to it within seconds.")


@require_POST
def app_backend_remove(request: HttpRequest, name: str) -> HttpResponse:
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    address = request.POST.get("address", "")[:100]
    backend = Backend.objects.filter(app=app).at(address)
    if backend is None:
        raise Http404
    if request.POST.get("confirmed") != "yes" and access.can_change_backends(request.user):
        # Asked in the browser with JavaScript; without, the panel asks.
        return render_backends_panel(request, app, confirm=backend.address)
    try:
        removal = backend_remove(backend=backend, actor=request.user, source=SOURCE)
    except PermissionDenied as error:
        return _refused(request, app, error, "")
    return _removed(request, app, removal)


@require_POST
def app_backend_restore(request: HttpRequest, name: str) -> HttpResponse:
    """Undo a removal: the same address again, if nothing changed it since."""
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    try:
        backend = backend_restore(
            app=app,
            removal_id=request.POST.get("removal", "")[:20],
            actor=request.user,
            source=SOURCE,
        )
    except PermissionDenied as error:
        return _refused(request, app, error, "")
    except ValidationError as error:
        return render_backends_panel(request, app, status=422, undo_error=error.messages[0])
    return _done(request, app, f"Brought back {backend.address}: the edges route to it again.")
