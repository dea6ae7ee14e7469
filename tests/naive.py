"""The naive version of a service: read, then write, with no row lock.

Concurrency tests run the real service and then this version of it, to show that the lock is
what makes them pass (and that the test can tell).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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
