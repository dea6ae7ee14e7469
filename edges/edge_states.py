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


# A minute's tally of an edge: app id -> [peak, sum, reports] of its connections in the reports
# of that minute so far. In Redis it is one value per edge and minute, computed by the process
# that applies the report (Redis's Lua spent 9 ms a report updating a thousand apps' fields).
Tally = dict[int, Any]


def tally_add(tally: Tally, per_app: dict[int, int]) -> Tally:
    """A new tally: `tally` (left as it is) with one report's count per app added."""
    counted = dict(tally)
    get = tally.get
    for app, count in per_app.items():
        held = get(app)
        if held is None:
            counted[app] = (count, count, 1)
        else:
            peak, total, reports = held
            counted[app] = (peak if peak > count else count, total + count, reports + 1)
    return counted


def tally_merge(tally: Tally, samples: list[Sample]) -> Tally:
    """A new tally: `tally` with samples (of its minute) added, as if their reports were."""
    merged = dict(tally)
    for s in samples:
        peak, total, reports = merged.get(s.app_id, (0, 0, 0))
        merged[s.app_id] = (
            max(peak, s.max_connections),
            total + s.sum_connections,
            reports + s.samples,
        )
    return merged


def tally_encode(tally: Tally) -> bytes:
    return orjson.dumps(list(tally.items()))


def tally_decode(blob: bytes | str | None) -> Tally:
    return dict(orjson.loads(blob)) if blob else {}


def samples_of(edge_id: int, minute: dt.datetime, tally: Tally) -> list[Sample]:
    """Rollup rows from a minute's tally, by app."""
    return [
        Sample(edge_id, app, minute, peak, total, reports)
        for app, (peak, total, reports) in sorted(tally.items())
        if reports
    ]


def newer(seq: int, stored: int) -> bool:
    """Whether a report replaces the stored state (the Redis script makes the same test)."""
    return seq > stored
