"""Demo traffic: plausible, slowly drifting reports from the demo's edges."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Any

# One simulated day passes in this many seconds, so the demo's curves move while you watch.
DAY_SECONDS = 600.0


def _stable(seed: str, low: int, high: int) -> int:
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")
    return low + digest % (high - low + 1)


@dataclass
class Host:
    hostname: str
    app: str
    websockets_on: bool
    base: int
    addresses: list[str] = field(default_factory=list)
    level: float = 1.0

    @classmethod
    def make(
        cls, hostname: str, app: str, websockets_on: bool, addresses: list[str] | None = None
    ) -> Host:
        return cls(hostname, app, websockets_on, _stable(hostname, 40, 600), addresses or [])


@dataclass
class EdgeSim:
    name: str
    token: str
    hosts: list[Host]
    seq: int
    silent_every: float = 0.0  # seconds between silences, 0 for never
    silent_for: float = 20.0
    rng: random.Random = field(default_factory=random.Random)

    def silent(self, now: float) -> bool:
        return bool(self.silent_every) and (now % self.silent_every) < self.silent_for

    def report(self, now: float) -> dict[str, Any]:
        self.seq += 1
        day = 0.55 + 0.45 * math.sin(2 * math.pi * (now % DAY_SECONDS) / DAY_SECONDS)
        frontends = []
        for index, host in enumerate(self.hosts):
            host.level = min(1.6, max(0.5, host.level + self.rng.gauss(0, 0.03)))
            burst = 1.8 if (now + index * 37) % 180 < 12 else 1.0
            connections = max(0, round(host.base * day * host.level * burst))
            websockets = round(connections * 0.7) if host.websockets_on else 0
            frontends.append(
                {
                    "hostname": host.hostname,
                    "connections": connections,
                    "websockets": websockets,
                    "backends": self.backends(host, connections, now),
                }
            )
        return {"edge": self.name, "seq": self.seq, "sent_at": _iso(now), "frontends": frontends}

    def backends(self, host: Host, connections: int, now: float) -> list[dict[str, Any]]:
        """The app's web processes share its connections; every few minutes the second one of
        the edge's first hostname dies for half a minute."""
        octet = _stable(host.hostname, 2, 250)
        addresses = host.addresses or [f"10.0.{octet}.7:8080", f"10.0.{octet}.8:8080"]
        dead = (
            {addresses[1]}
            if len(addresses) > 1 and host is self.hosts[0] and (now % 240) < 30
            else set()
        )
        alive = [a for a in addresses if a not in dead]
        share, extra = divmod(connections, len(alive))
        return [
            {
                "address": address,
                "connections": 0
                if address in dead
                else share + (1 if alive.index(address) < extra else 0),
                "state": "dead" if address in dead else "up",
            }
            for address in addresses
        ]


def _iso(now: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
