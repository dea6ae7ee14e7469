"""Request ids: every machine client's answer carries one, and so does every log line it causes.

Heroku's clients print the `Request-Id` of a failed call so that it can be found in the server's
logs. A client may send its own id (to follow a call across its own logs too); one that is not a
short, safe token is replaced, never reflected.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "Request-Id"
NONE = "-"
_SAFE = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_current: ContextVar[str] = ContextVar("request_id", default=NONE)


def request_id(sent: str | None) -> str:
    """The client's own id when it is a UUID or a short safe token, else a fresh UUID4."""
    if sent and _SAFE.fullmatch(sent):
        return sent
    return str(uuid.uuid4())


@contextmanager
def request_id_context(value: str) -> Iterator[None]:
    """Tag the log records written while the request is handled with its id."""
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Give every record a `request_id`: the one it was logged with (`extra=`), its request's
    (Django's request warnings carry the request), the one being handled, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(getattr(record, "request_id", None), str):
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or _current.get()
        return True
