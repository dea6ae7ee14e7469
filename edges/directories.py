"""What a process keeps of the rows its live numbers are rendered with (edges with their owner,
apps' names, each organization's apps), so a live update is rendered from memory, not read from
the database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from dashboard.models import App, Domain
from edges.models import Edge

# How long a process keeps the edges' rows it renders numbers with (names, kinds, owners): a
# live update is rendered from memory, not read from the database. An announced upgrade forgets
# them at once in every process (live.hub); other edits show within this bound.
EDGE_DIRECTORY_SECONDS = 5.0


class EdgeDirectory:
    """The edges' rows (with their owner and domain count), read in one query for all and kept
    for EDGE_DIRECTORY_SECONDS."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[int, Edge] = {}
        # Ids asked for but not found at the last read (an edge deleted since its last report):
        # not worth reading again before the rows expire.
        self.absent: set[int] = set()
        self.until = float("-inf")

    def of(self, ids: Iterable[int]) -> dict[int, Edge]:
        wanted = set(ids)
        now = time.monotonic()
        rows, absent = self.rows, self.absent
        if now >= self.until or wanted - rows.keys() - absent:
            rows = self._read(now, wanted)
        return {i: rows[i] for i in wanted if i in rows}

    def all(self) -> list[Edge]:
        """Every edge, by name."""
        rows = self.rows
        if time.monotonic() >= self.until:
            rows = self._read(time.monotonic(), set())
        return list(rows.values())

    def _read(self, now: float, wanted: set[int]) -> dict[int, Edge]:
        # A correlated count walks each edge's index entries instead of grouping a join.
        edges = (
            Edge.objects.select_related("organization")
            .annotate(domain_count=Domain.objects.count_per("edge"))
            .order_by("name")
        )
        rows = {e.pk: e for e in edges}
        with self.lock:
            self.rows, self.absent = rows, wanted - rows.keys()
            self.until = now + EDGE_DIRECTORY_SECONDS
        return rows

    def forget(self) -> None:
        with self.lock:
            self.until = float("-inf")


edges_directory = EdgeDirectory()


class AppDirectory:
    """Apps' names and organizations by id, for the rows of live lists: read for the ids not
    known yet, all forgotten every EDGE_DIRECTORY_SECONDS (a renamed app shows within it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[int, tuple[str, int]] = {}
        self.until = float("-inf")

    def of(self, ids: Iterable[int]) -> dict[int, tuple[str, int]]:
        wanted = set(ids)
        now = time.monotonic()
        with self.lock:
            if now >= self.until:
                self.rows, self.until = {}, now + EDGE_DIRECTORY_SECONDS
            rows = self.rows
        missing = wanted - rows.keys()
        if missing:
            found = {
                pk: (name, org)
                for pk, name, org in App.objects.filter(pk__in=missing).values_list(
                    "pk", "name", "organization_id"
                )
            }
            with self.lock:
                self.rows.update(found)
            rows = {**rows, **found}
        return {i: rows[i] for i in wanted if i in rows}

    def forget(self) -> None:
        with self.lock:
            self.until = float("-inf")


apps_directory = AppDirectory()


class OrganizationApps:
    """Each organization's apps (id and name), read once and kept for EDGE_DIRECTORY_SECONDS:
    an organization's live block is rendered from memory on every update, not from a query."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[int, tuple[float, list[App]]] = {}

    def of(self, organization_id: int) -> list[App]:
        now = time.monotonic()
        kept = self.rows.get(organization_id)
        if kept is not None and now < kept[0]:
            return kept[1]
        apps = [
            App(pk=pk, name=name, organization_id=organization_id)
            for pk, name in App.objects.filter(organization_id=organization_id).values_list(
                "pk", "name"
            )
        ]
        with self.lock:
            self.rows[organization_id] = (now + EDGE_DIRECTORY_SECONDS, apps)
        return apps

    def forget(self) -> None:
        with self.lock:
            self.rows = {}


organization_apps = OrganizationApps()
