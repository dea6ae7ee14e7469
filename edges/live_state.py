"""The latest numbers each edge reported, and the per-minute samples not yet written to the
database: kept where they are cheap to write and read.

- With REDIS_URL, in Redis, shared by every process: a report is one script call (its state
  replaces the edge's previous one unless a newer report got there first, and its per-app counts
  are added to the minute's samples). A process keeps the states it has read, keyed by their
  `seq`, and fetches only the edges whose `seq` moved since. While its live hub hears every
  report's event (each names the edge and its new `seq`), a process reads Redis only when an
  event announced a `seq` newer than the one it holds, not on every render; otherwise (no hub
  listening, or nothing read for TRUST_HEARD_SECONDS) on every read.
- On the embedded default, in the process's memory (one process serves everything).

PostgreSQL keeps what must last: the per-minute rollups, written once a minute per edge by
whichever process takes the edge's first report of a new minute (`take_minutes`), and each edge's
`last_seq` and `last_report_at`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

import redis
from django.conf import settings

from edges.edge_states import (
    EdgeState,
    Recorded,
    Sample,
    Tally,
    minute_key,
    minute_of,
    newer,
    samples_of,
    tally_add,
    tally_decode,
    tally_encode,
    tally_merge,
)
from shared.breaker import redis as redis_breaker
from shared.redis_pool import ProcessConnectionPool

# A rollup minute not taken by then (its edge stopped reporting) is taken by the next report of
# any edge... or expires from Redis after this long; the chart then misses that minute.
PENDING_MINUTE_TTL_SECONDS = 24 * 3600
# How long a process that hears every report's event trusts what it holds without reading Redis.
TRUST_HEARD_SECONDS = 5.0


class LiveStateUnavailable(Exception):
    """The store cannot be reached (Redis down): nothing was written."""


class MemoryLiveState:
    """The embedded default: one process holds everything (always current: nothing to hear)."""

    reachable = True

    def heard_of(self, edge_id: int, seq: int) -> None:
        pass

    def current(self) -> bool:
        return True

    def start_listening(self) -> None:
        pass

    def stop_listening(self) -> None:
        pass

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.states: dict[int, EdgeState] = {}
        # edge id -> minute -> app id -> [max, sum, samples]
        self.minutes: dict[int, dict[dt.datetime, dict[int, list[int]]]] = {}

    def record(self, state: EdgeState, minute: dt.datetime, per_app: dict[int, int]) -> Recorded:
        with self.lock:
            previous = self.states.get(state.edge_id)
            if previous is not None and not newer(state.seq, previous.seq):
                return Recorded(applied=False, previous=previous, kept_seq=previous.seq)
            self.states[state.edge_id] = state
            pending = self.minutes.setdefault(state.edge_id, {})
            cells = pending.setdefault(minute, {})
            for app_id, count in per_app.items():
                cell = cells.setdefault(app_id, [0, 0, 0])
                cell[0] = max(cell[0], count)
                cell[1] += count
                cell[2] += 1
            due = sorted(m for m in pending if m < minute)
        return Recorded(applied=True, previous=previous, due_minutes=due)

    def states_of(self, edge_ids: Iterable[int] | None = None) -> dict[int, EdgeState]:
        with self.lock:
            if edge_ids is None:
                return dict(self.states)
            return {i: self.states[i] for i in edge_ids if i in self.states}

    def take_minutes(self, edge_id: int, minutes: list[dt.datetime]) -> list[Sample]:
        with self.lock:
            pending = self.minutes.get(edge_id, {})
            taken = [(m, pending.pop(m)) for m in minutes if m in pending]
        return [
            Sample(edge_id, app_id, minute, cell[0], cell[1], cell[2])
            for minute, cells in taken
            for app_id, cell in sorted(cells.items())
        ]

    def give_back(self, samples: list[Sample]) -> None:
        """Samples a failed database write could not keep: added to what is pending again."""
        with self.lock:
            for s in samples:
                cell = self.minutes.setdefault(s.edge_id, {}).setdefault(s.minute, {})
                mine = cell.setdefault(s.app_id, [0, 0, 0])
                mine[0] = max(mine[0], s.max_connections)
                mine[1] += s.sum_connections
                mine[2] += s.samples

    def pending_samples(self, app_id: int) -> list[Sample]:
        with self.lock:
            return [
                Sample(edge_id, app_id, minute, *cells[app_id])
                for edge_id, pending in self.minutes.items()
                for minute, cells in pending.items()
                if app_id in cells
            ]

    def forget(self) -> None:
        with self.lock:
            self.states.clear()
            self.minutes.clear()


# KEYS: seqs hash, state key, the minute's tally, pending-minutes set.
# ARGV: edge id, seq, encoded state, minute key, the seq of the state the caller's tally of the
# minute was counted on (-1: none), the new tally (that one with this report added).
# Returns {applied, previous seq or -1, the edge's pending minute keys, the stored state, the
# stored tally of the minute}: applied 1 (the last two false), 0 (an older report: nothing
# written) or 2 (the edge's stored state is not the one the caller counted on: nothing written,
# and the caller counts again from the stored state and tally it is handed).
RECORD_SCRIPT = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if not (tonumber(ARGV[2]) > current) then
  return {0, current, {}, false, false}
end
if current ~= tonumber(ARGV[5]) then
  return {2, current, {}, redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3])}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[6], 'EX', TTL)
redis.call('SADD', KEYS[4], ARGV[4])
return {1, current, redis.call('SMEMBERS', KEYS[4]), false, false}
""".replace("TTL", str(PENDING_MINUTE_TTL_SECONDS))

# Counting again from the stored state more often than this in one report means other
# processes apply the same edge's reports at the very same moments: refused as unavailable.
RECORD_ATTEMPTS = 5

# KEYS: the minute's tally, pending-minutes set. ARGV: minute key. The tally, taken once.
_TAKE = """
local tally = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return tally
"""


class RedisLiveState:
    """Shared by every process through Redis; each process keeps what it has decoded."""

    def __init__(self, url: str) -> None:
        pool = ProcessConnectionPool.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.client = redis.Redis(connection_pool=pool)
        self.record_script = self.client.register_script(RECORD_SCRIPT)
        self.take_script = self.client.register_script(_TAKE)
        self.lock = threading.Lock()
        self.decoded: dict[int, EdgeState] = {}
        # edge id -> (seq, minute key, tally): the minute's tally as this process's last applied
        # report of the edge left it.
        self.tallies: dict[int, tuple[int, str, Tally]] = {}
        # False while the last read of the store failed (or was not tried: the breaker is open):
        # what `states_of` answers is then the last this process read, and pages say so.
        self.reachable = True
        # Set by the live hub while it hears every counts event: then `heard` (edge id -> newest
        # seq announced) says when what this process holds is behind.
        self.listening = False
        self.heard: dict[int, int] = {}
        self.read_at = float("-inf")

    @property
    def prefix(self) -> str:
        return f"{settings.LIVE_STATE_PREFIX}:live"

    def _keys(self, edge_id: int, minute: str = "") -> tuple[str, str, str, str]:
        p = self.prefix
        return (
            f"{p}:seqs",
            f"{p}:edge:{edge_id}",
            f"{p}:minute:{edge_id}:{minute}",
            f"{p}:minutes:{edge_id}",
        )

    def record(self, state: EdgeState, minute: dt.datetime, per_app: dict[int, int]) -> Recorded:
        key = minute_key(minute)
        keys = self._keys(state.edge_id, key)
        encoded = state.encode()
        with self.lock:
            held = self.decoded.get(state.edge_id)
            counted_on = self.tallies.get(state.edge_id)
        # The minute so far, as this process left it with the edge's last report it applied;
        # checked by the script: the edge's stored seq must still be that report's.
        base_seq = held.seq if held is not None else -1
        previous = held
        if counted_on is not None and counted_on[:2] == (base_seq, key):
            tally = counted_on[2]
        else:
            tally = {}
        for _ in range(RECORD_ATTEMPTS):
            counted = tally_add(tally, per_app)
            args = [state.edge_id, state.seq, encoded, key, base_seq, tally_encode(counted)]
            try:
                applied, current, pending, stored, stored_tally = self.record_script(
                    keys=keys, args=args
                )
            except redis.RedisError as error:
                raise LiveStateUnavailable(str(error)) from error
            if applied == 0:
                return Recorded(applied=False, previous=held, kept_seq=int(current))
            if applied == 1:
                with self.lock:
                    self.decoded[state.edge_id] = state
                    self.tallies[state.edge_id] = (state.seq, key, counted)
                due = sorted(minute_of(m) for m in pending if minute_of(m) < minute)
                return Recorded(applied=True, previous=previous, due_minutes=due)
            # Another process applied the edge's reports since (or Redis lost them): count
            # again from what is stored, the state this report replaces and its minute.
            base_seq = int(current)
            previous = EdgeState.decode(state.edge_id, stored) if stored else None
            tally = tally_decode(stored_tally)
        raise LiveStateUnavailable(f"edge {state.edge_id}'s reports are applied elsewhere at once")

    def states_of(self, edge_ids: Iterable[int] | None = None) -> dict[int, EdgeState]:
        """The latest states; while Redis is out, the last this process read (at once)."""
        if not self._behind():
            return self._held(edge_ids)
        reachable = False
        if redis_breaker.closed:
            try:
                started = time.monotonic()
                self._refresh()
                self.read_at = started
                redis_breaker.succeeded()
                reachable = True
            except redis.RedisError:
                redis_breaker.failed()
        self.reachable = reachable
        return self._held(edge_ids)

    def heard_of(self, edge_id: int, seq: int) -> None:
        """A counts event announced this edge's state at `seq`."""
        with self.lock:
            if seq > self.heard.get(edge_id, -1):
                self.heard[edge_id] = seq

    def start_listening(self) -> None:
        """The hub now hears every counts event; what was announced before it did is read at
        the next read."""
        with self.lock:
            self.listening, self.read_at = True, float("-inf")

    def stop_listening(self) -> None:
        with self.lock:
            self.listening = False
            self.heard.clear()

    def current(self) -> bool:
        """Whether `states_of` answers from what this process holds, without reading Redis."""
        return not self._behind()

    def _behind(self) -> bool:
        """Whether Redis must be read: what this process holds may be older than the store."""
        if not (self.listening and self.reachable):
            return True
        if time.monotonic() - self.read_at > TRUST_HEARD_SECONDS:
            return True
        with self.lock:
            return any(
                (held := self.decoded.get(edge_id)) is None or held.seq < seq
                for edge_id, seq in self.heard.items()
            )

    def _held(self, edge_ids: Iterable[int] | None) -> dict[int, EdgeState]:
        with self.lock:
            if edge_ids is None:
                return dict(self.decoded)
            return {i: self.decoded[i] for i in edge_ids if i in self.decoded}

    def _refresh(self) -> None:
        """Decode the states whose seq moved since this process last read them."""
        p = self.prefix
        seqs = {int(k): int(v) for k, v in self.client.hgetall(f"{p}:seqs").items()}
        with self.lock:
            for gone in set(self.decoded) - set(seqs):
                del self.decoded[gone]  # the store was emptied (a restarted Redis)
            for edge_id in list(self.heard):
                if edge_id not in seqs:
                    del self.heard[edge_id]  # an edge deleted, or the store emptied
                elif self.heard[edge_id] > seqs[edge_id]:
                    self.heard[edge_id] = seqs[edge_id]
            moved = [
                i for i, seq in seqs.items() if getattr(self.decoded.get(i), "seq", None) != seq
            ]
        if not moved:
            return
        blobs = self.client.mget([f"{p}:edge:{i}" for i in moved])
        fresh = {i: EdgeState.decode(i, b) for i, b in zip(moved, blobs, strict=True) if b}
        with self.lock:
            for i, state in fresh.items():
                known = self.decoded.get(i)
                # Only ever forward: this process may have applied a newer report of the edge
                # while these were read (its ingest threads record beside this read).
                if known is None or newer(state.seq, known.seq):
                    self.decoded[i] = state

    def take_minutes(self, edge_id: int, minutes: list[dt.datetime]) -> list[Sample]:
        samples: list[Sample] = []
        try:
            for minute in minutes:
                key = minute_key(minute)
                _, _, tally_key, set_key = self._keys(edge_id, key)
                blob = self.take_script(keys=(tally_key, set_key), args=(key,))
                samples.extend(samples_of(edge_id, minute, tally_decode(blob)))
        except redis.RedisError as error:
            raise LiveStateUnavailable(str(error)) from error
        return samples

    def give_back(self, samples: list[Sample]) -> None:
        by_minute: dict[tuple[int, dt.datetime], list[Sample]] = defaultdict(list)
        for s in samples:
            by_minute[(s.edge_id, s.minute)].append(s)
        try:
            for (edge_id, minute), rows in by_minute.items():
                key = minute_key(minute)
                _, _, tally_key, set_key = self._keys(edge_id, key)
                # Added to whatever is there; a report of a later minute never writes this one.
                with self.client.pipeline(transaction=True) as pipe:
                    while True:
                        try:
                            pipe.watch(tally_key)
                            merged = tally_merge(tally_decode(pipe.get(tally_key)), rows)
                            pipe.multi()
                            pipe.set(tally_key, tally_encode(merged), ex=PENDING_MINUTE_TTL_SECONDS)
                            pipe.sadd(set_key, key)
                            pipe.execute()
                            break
                        except redis.WatchError:
                            continue
        except redis.RedisError as error:
            raise LiveStateUnavailable(str(error)) from error

    def pending_samples(self, app_id: int) -> list[Sample]:
        p = self.prefix
        if not redis_breaker.closed:
            raise LiveStateUnavailable("Redis is out")
        try:
            edge_ids = [int(k) for k in self.client.hkeys(f"{p}:seqs")]
            pipe = self.client.pipeline(transaction=False)
            for edge_id in edge_ids:
                pipe.smembers(f"{p}:minutes:{edge_id}")
            pending = pipe.execute()
            wanted = [
                (edge_id, minute_of(m))
                for edge_id, minutes in zip(edge_ids, pending, strict=True)
                for m in minutes
            ]
            for edge_id, minute in wanted:
                pipe.get(f"{p}:minute:{edge_id}:{minute_key(minute)}")
            tallies = pipe.execute()
        except redis.RedisError as error:
            redis_breaker.failed()
            raise LiveStateUnavailable(str(error)) from error
        found = []
        for (edge_id, minute), blob in zip(wanted, tallies, strict=True):
            peak, total, reports = tally_decode(blob).get(app_id, (0, 0, 0))
            if reports:
                found.append(Sample(edge_id, app_id, minute, peak, total, reports))
        return found

    def forget(self) -> None:
        with self.lock:
            self.decoded.clear()
            self.tallies.clear()
        keys = list(self.client.scan_iter(f"{self.prefix}:*", count=1000))
        if keys:
            self.client.delete(*keys)


_store: MemoryLiveState | RedisLiveState | None = None
_store_lock = threading.Lock()


def live_state() -> MemoryLiveState | RedisLiveState:
    """The process's store: Redis when REDIS_URL is set, else memory."""
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                url = settings.REDIS_URL
                _store = RedisLiveState(url) if url else MemoryLiveState()
    return _store
