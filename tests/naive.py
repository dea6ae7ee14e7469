"""The naive version of a service: read, then write, with no row lock (or no ordering check).

Concurrency tests run the real service and then this version of it, to show that the lock is
what makes them pass (and that the test can tell).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db.models import QuerySet


@contextlib.contextmanager
def without_row_locks() -> Iterator[None]:
    """`select_for_update()` becomes a plain read for the duration."""

    def plain_read(self: QuerySet[Any], *args: Any, **kwargs: Any) -> QuerySet[Any]:
        return self._chain()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QuerySet, "select_for_update", plain_read)
        yield


@contextlib.contextmanager
def checks_meet(*checks: tuple[Any, str], parties: int = 2) -> Iterator[None]:
    """Each of these checks (module, name), once it has read, waits until `parties` callers
    have checked before any goes on to write: the interleaving a row lock rules out, held every
    time instead of whenever the scheduler happens to allow it."""
    met = threading.Barrier(parties)

    def held(check: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(check)
        def checked_then_waits(*args: Any, **kwargs: Any) -> Any:
            try:
                return check(*args, **kwargs)
            finally:
                met.wait(timeout=30)

        return checked_then_waits

    with pytest.MonkeyPatch.context() as patch:
        for owner, name in checks:
            patch.setattr(owner, name, held(getattr(owner, name)))
        yield


@contextlib.contextmanager
def without_report_ordering() -> Iterator[None]:
    """The live state stores whichever report of an edge writes last, not the newest one."""
    from edges import live_state

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(live_state, "newer", lambda seq, stored: True)
        patch.setattr(
            live_state,
            "RECORD_SCRIPT",
            live_state.RECORD_SCRIPT.replace(
                "if not (tonumber(ARGV[2]) > current) then", "if false then"
            ),
        )
        patch.setattr(live_state, "_store", None)
        yield
    live_state._store = None
