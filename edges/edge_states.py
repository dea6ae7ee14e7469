"""What an edge reported, as the live state keeps it (edges.live_state): its latest state, and
the per-minute samples of its apps not yet written to the database."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple


class Frontend(NamedTuple):
    # A tuple: thousands are built per report, where a frozen dataclass costs a setattr each.
    hostname: str
    app_id: int | None
    connections: int
    websockets: int
    backends: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class EdgeState:
    edge_id: int
    seq: int
    reported_at: dt.datetime
    frontends: tuple[Frontend, ...] = ()

    @cached_property
    def by_app(self) -> dict[int, list[Frontend]]:
        rows: dict[int, list[Frontend]] = defaultdict(list)
        for frontend in self.frontends:
            if frontend.app_id is not None:
                rows[frontend.app_id].append(frontend)
        return dict(rows)

    @cached_property
    def app_signatures(self) -> dict[int, tuple[Any, ...]]:
        """What a page shows of each app on this edge: a change in it is worth a push. Kept
        with the state, so the next report compares with it at no cost."""
        return {app_id: tuple(rows) for app_id, rows in self.by_app.items()}

    def encode(self) -> str:
        # A Frontend is a tuple in the order of a row: encoded as a JSON list as it stands.
        return json.dumps(
            {"seq": self.seq, "at": self.reported_at.isoformat(), "rows": self.frontends},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, edge_id: int, text: str | bytes) -> EdgeState:
        data = json.loads(text)
        return cls(
            edge_id=edge_id,
            seq=data["seq"],
            reported_at=dt.datetime.fromisoformat(data["at"]),
            frontends=tuple(
                Frontend(host, app_id, connections, websockets, tuple(backends))
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
