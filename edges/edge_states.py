"""What an edge reported, as the live state keeps it (edges.live_state): its latest state, and
the per-minute samples of its apps not yet written to the database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, NamedTuple

import orjson


class Frontend(NamedTuple):
    # A tuple: thousands are built per report, where a frozen dataclass costs a setattr each.
    hostname: str
    app_id: int | None
    connections: int
    websockets: int
    backends: tuple[dict[str, Any], ...] = ()


# Frontend((hostname, app_id, connections, websockets, backends)), without the Python-level
# __new__ of a NamedTuple call.
frontend_of = partial(tuple.__new__, Frontend)


@dataclass(frozen=True)
class EdgeState:
    edge_id: int
    seq: int
    reported_at: dt.datetime
    frontends: tuple[Frontend, ...] = ()

    @cached_property
    def by_app(self) -> dict[int, list[Frontend]]:
        """Each app's rows on this edge, in report order: what a page shows of the app here (a
        change in it is worth a push)."""
        rows: dict[int, list[Frontend]] = defaultdict(list)
        for frontend in self.frontends:
            if frontend.app_id is not None:
                rows[frontend.app_id].append(frontend)
        return dict(rows)

    @cached_property
    def totals(self) -> tuple[int, int]:
        """(connections, websockets) over the edge's rows: read by every view of the edge's
        numbers until its next report replaces the state."""
        return sum(f.connections for f in self.frontends), sum(f.websockets for f in self.frontends)

    @cached_property
    def app_totals(self) -> dict[int, tuple[int, int]]:
        """(connections, websockets) of each app on this edge."""
        return {
            app_id: (sum(f.connections for f in rows), sum(f.websockets for f in rows))
            for app_id, rows in self.by_app.items()
        }

    @cached_property
    def ranked(self) -> list[tuple[int, int]]:
        """(connections, app id) of each app on this edge, busiest first."""
        return sorted(((cw[0], app_id) for app_id, cw in self.app_totals.items()), reverse=True)

    @classmethod
    def grouped(
        cls,
        edge_id: int,
        seq: int,
        reported_at: dt.datetime,
        frontends: tuple[Frontend, ...],
        by_app: dict[int, list[Frontend]],
    ) -> EdgeState:
        """A state whose rows the caller already grouped by app (`by_app` as it would be)."""
        state = cls(edge_id, seq, reported_at, frontends)
        state.__dict__["by_app"] = by_app  # what cached_property would have stored
        return state

    def encode(self) -> bytes:
        # A Frontend is a tuple in the order of a row: encoded as a JSON list (orjson takes
        # plain tuples itself, a NamedTuple only through a call back into Python per row).
        rows = list(map(tuple, self.frontends))
        return orjson.dumps({"seq": self.seq, "at": self.reported_at.isoformat(), "rows": rows})

    @classmethod
    def decode(cls, edge_id: int, text: str | bytes) -> EdgeState:
        data = orjson.loads(text)
        return cls(
            edge_id=edge_id,
            seq=data["seq"],
            reported_at=dt.datetime.fromisoformat(data["at"]),
            frontends=tuple(
                frontend_of((host, app_id, connections, websockets, tuple(backends)))
                for host, app_id, connections, websockets, backends in data["rows"]
            ),
        )


@dataclass(frozen=True)
class Sample:
    """One minute of one app's connections on one edge, as a rollup row stores it."""

    edge_id: int
    app_id: int
    minute: dt.datetime
    max_connections: int
    sum_connections: int
    samples: int


@dataclass
class Recorded:
    """What recording a report did: whether it was newer than the stored state, the state it
    replaced, and the earlier minutes of the edge now due to be written to the database."""

    applied: bool
    previous: EdgeState | None = None
    due_minutes: list[dt.datetime] = field(default_factory=list)
    # When not applied: the seq of the newer state kept.
    kept_seq: int | None = None


def minute_key(minute: dt.datetime) -> str:
    return str(int(minute.timestamp()))


def minute_of(key: str | bytes) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(key), tz=dt.UTC)


def samples_from(edge_id: int, minute: dt.datetime, fields: dict[Any, Any]) -> list[Sample]:
    """Rollup rows from a minute's hash: fields s:<app> (sum), n:<app> (samples), m:<app> (max)."""
    values: dict[int, dict[str, int]] = defaultdict(dict)
    for name, value in fields.items():
        name = name.decode() if isinstance(name, bytes) else name
        kind, _, app = name.partition(":")
        values[int(app)][kind] = int(value)
    return [
        Sample(edge_id, app, minute, v.get("m", 0), v.get("s", 0), v.get("n", 0))
        for app, v in sorted(values.items())
        if v.get("n")
    ]


def newer(seq: int, stored: int) -> bool:
    """Whether a report replaces the stored state (the Redis script makes the same test)."""
    return seq > stored
