"""Heroku's Range pagination: `Range: id ..; max=200`, answered with 206 and `Next-Range`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse

from shared.errors import ApiError

DEFAULT_MAX = 200
LIMIT_MAX = 1000

_RANGE_RE = re.compile(
    r"^\s*(?P<field>[a-z_]+)\s*(?:(?P<exclusive>\])?(?P<start>[^.;\s]*)\s*\.\.\s*(?P<end>[^;\s]*))?"
    r"\s*(?:;\s*(?P<options>.*))?$"
)


@dataclass(frozen=True)
class Range:
    field: str
    start: str
    exclusive: bool
    end: str
    max: int
    descending: bool


def _bad_range(message: str) -> ApiError:
    return ApiError(416, "requested_range_not_satisfiable", message)


def parse_range(header: str, fields: Sequence[str]) -> Range:
    if not header:
        return Range(fields[0], "", False, "", DEFAULT_MAX, False)
    match = _RANGE_RE.match(header)
    if not match or match["field"] not in fields:
        raise _bad_range(f"Invalid Range header: accepted ranges are {', '.join(fields)}.")
    size, descending = DEFAULT_MAX, False
    # The CLI's own paginator ends its header with a stray `;`: `id ..; max=1000;`.
    for option in re.split(r"[,;]", match["options"] or ""):
        option = option.strip()
        if not option:
            continue
        name, _, value = option.partition("=")
        name, value = name.strip(), value.strip()
        if name == "max" and value.isdigit() and 1 <= int(value) <= LIMIT_MAX:
            size = int(value)
        elif name == "order" and value in ("asc", "desc"):
            descending = value == "desc"
        else:
            raise _bad_range(f"Invalid Range option {option!r}: use max=1..{LIMIT_MAX}, order.")
    return Range(
        field=match["field"],
        start=match["start"] or "",
        exclusive=bool(match["exclusive"]),
        end=match["end"] or "",
        max=size,
        descending=descending,
    )


def paginate(
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    fields: dict[str, str],
    serialize: Callable[[Any], dict[str, Any]],
    value_of: Callable[[Any, str], str],
) -> JsonResponse:
    """`fields` maps a range field name to the model field it sorts by."""
    wanted = parse_range(request.headers.get("Range", ""), list(fields))
    column = fields[wanted.field]
    order = f"-{column}" if wanted.descending else column
    rows = queryset.order_by(order, "pk")
    try:
        if wanted.start:
            forward = "gt" if wanted.exclusive else "gte"
            backward = "lt" if wanted.exclusive else "lte"
            op = backward if wanted.descending else forward
            rows = rows.filter(**{f"{column}__{op}": wanted.start})
        if wanted.end:
            op = "gte" if wanted.descending else "lte"
            rows = rows.filter(**{f"{column}__{op}": wanted.end})
        page = list(rows[: wanted.max + 1])
    except ValidationError:
        raise _bad_range(f"Invalid Range value for {wanted.field}.") from None
    more = len(page) > wanted.max
    page = page[: wanted.max]
    response = JsonResponse(
        [serialize(item) for item in page], safe=False, status=206 if more else 200
    )
    response["Accept-Ranges"] = ", ".join(fields)
    if page:
        first, last = value_of(page[0], wanted.field), value_of(page[-1], wanted.field)
        response["Content-Range"] = f"{wanted.field} {first}..{last}"
    if more:
        order_option = ", order=desc" if wanted.descending else ""
        response["Next-Range"] = (
            f"{wanted.field} ]{value_of(page[-1], wanted.field)}..; max={wanted.max}{order_option}"
        )
    return response
