"""The audit trail: the page (filtered, sorted, paginated) and its CSV export with the same
filters and the same visibility (a customer reads only their organizations' events, and
support's reasons only when support shared them)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.models import AuditEvent, Organization
from pages.tables import TABLES, Sorting, paginate

AUDIT_PER_PAGE = 50
EXPORT_BATCH = 1000
FILTERS = {"organization": 30, "app": 30, "actor": 150, "action": 64}
CSV_HEADER = [
    "time (UTC)",
    "actor",
    "source",
    "action",
    "what",
    "target type",
    "target",
    "organization",
    "app",
    "before",
    "after",
    "reason",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _filtered(request: HttpRequest) -> tuple[QuerySet[AuditEvent], dict[str, str], Sorting]:
    """The events this user may read, narrowed by the page's filters and in its sort."""
    filters = {name: request.GET.get(name, "").strip()[:size] for name, size in FILTERS.items()}
    events = AuditEvent.objects.visible_to(request.user).select_related("app", "organization")
    if filters["organization"]:
        events = events.filter(organization__name=filters["organization"])
    if filters["app"]:
        events = events.filter(app__name=filters["app"])
    if filters["actor"]:
        events = events.filter(actor_label=filters["actor"])
    if filters["action"]:
        events = events.filter(action=filters["action"])
    sorting = TABLES["audit"].sorting(request.GET)
    return events.order_by(*sorting.order_by), filters, sorting


@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    """The audit trail, filtered by organization, app, actor and action."""
    events, filters, sorting = _filtered(request)
    kept = {name: value for name, value in filters.items() if value}
    if not sorting.is_default:
        kept["sort"] = sorting.value
    context = {
        "page": paginate(events, request.GET, AUDIT_PER_PAGE, "events"),
        "filters": filters,
        "sorting": sorting,
        "export_query": urlencode(kept),
        "organizations": Organization.objects.visible_to(request.user).values_list(
            "name", flat=True
        ),
        "actions": sorted(AuditEvent.VERBS),
    }
    template = "dashboard/audit.html"
    if request.htmx and request.htmx.target == "audit-results":
        template += "#audit-results"
    return render(request, template, context)


def csv_cell(value: Any) -> str:
    """One cell as text a spreadsheet shows and never evaluates."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _row(event: AuditEvent, viewer: Any) -> list[str]:
    cells = [
        event.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        event.actor_label,
        event.get_source_display(),
        event.action,
        f"{event.summary} {event.target_label}",
        event.target_type,
        event.target_label,
        event.organization.name if event.organization else "",
        event.app.name if event.app else "",
        _json(event.before),
        _json(event.after),
        event.reason_for(viewer),
    ]
    return [csv_cell(cell) for cell in cells]


class _Line:
    """A file-like target for csv.writer that hands back each line it is given."""

    def write(self, value: str) -> str:
        return value


def _batch(events: QuerySet[AuditEvent], offset: int, viewer: Any) -> list[str]:
    writer = csv.writer(_Line())
    rows = events[offset : offset + EXPORT_BATCH]
    return [writer.writerow(_row(event, viewer)) for event in rows]


def _lines(events: QuerySet[AuditEvent], viewer: Any) -> Iterator[str]:
    yield csv.writer(_Line()).writerow(CSV_HEADER)
    offset = 0
    while lines := _batch(events, offset, viewer):
        yield "".join(lines)
        offset += EXPORT_BATCH


async def _async_lines(events: QuerySet[AuditEvent], viewer: Any) -> AsyncIterator[str]:
    # Under ASGI a synchronous iterator would be read whole before the first byte is sent.
    yield csv.writer(_Line()).writerow(CSV_HEADER)
    offset = 0
    while lines := await sync_to_async(_batch)(events, offset, viewer):
        yield "".join(lines)
        offset += EXPORT_BATCH


@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The events the page shows with the same filters and sort, every page of them, as CSV."""
    events, _filters, _sorting = _filtered(request)
    if isinstance(request, ASGIRequest):
        content: Any = _async_lines(events, request.user)
    else:
        content = _lines(events, request.user)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
