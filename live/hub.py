"""Fan-out of live numbers inside one server process.

Each process subscribes once to the channel layer's one live group, which every event goes to
(changes are rare, or already one message per report: each process hearing every one costs
less than a group per topic to join on a socket's way in). The hub coalesces each view's
changes (latest state wins, at most one push per LIVE_MIN_INTERVAL, the first change after a
quiet period at once), renders the parts an event changed once per update (the live numbers, a
panel: live/panels.py) and writes those that differ to each local socket. A socket keeps at most
one pending fragment per part, so a slow one skips to the latest state and never holds the
others back.

The path from an event to the sockets is kept short: a view's numbers render on the event loop
when all they need is in memory (live.views.render_in_memory), other renders go to the database
thread; and a render's frames are written a batch of sockets at a time, the loop writing those
already pushed to the network before the next (live.views.Deliveries), every view's renders in
order.

A socket's way in has no wait on Redis: its snapshot comes from the view's last frame, or one
render shared by every socket joining meanwhile. The process's subscription is made in the
background the first time; once it is in place every view is refreshed, so nothing announced
in between is missed.

When the channel layer fails (Redis stopped, restarted empty or frozen) the hub cannot know what
it missed, nor whether its subscription survived: it asks every socket to reconnect (close 1013,
which the browser retries) and starts afresh, so each socket that comes back gets a snapshot of
the current state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from edges.directories import edges_directory
from edges.live_state import live_state
from edges.services.reports import forget_edges
from live import events
from live.cells import Numbers, cell_key, changed_cells
from live.grants import grants
from live.staleness import edge_report_ages
from live.views import Deliveries, LiveSocket, Renderer, RenderQueue, View, render_in_memory
from shared.breaker import redis as redis_breaker

logger = logging.getLogger(__name__)

GROUP_REFRESH_SECONDS = 3600.0
# Events after which the process's directories of edges and hostnames are read afresh.
DIRECTORY_EVENTS = frozenset(
    {events.EDGE_UPGRADE_CHANGED, events.EDGE_CHANGED, events.DOMAINS_CHANGED}
)
# A stale edge's pages re-render this long after the edge's staleness is due, so the render,
# which reads the edge's last report time from the live state, finds it stale.
STALE_MARGIN_SECONDS = 0.05


class LayerUnavailable(Exception):
    """The channel layer cannot be reached; try again shortly."""


class LiveHub:
    def __init__(self, *, report_ages: Callable[[], dict[str, float | None]] | None = None) -> None:
        # Numbers can change without an event (an edge going silent): the hub times each edge's
        # staleness from the reports it hears of, and from `report_ages` (seconds since each
        # edge's last report) for those before it listened.
        self.report_ages = report_ages
        self.reported: dict[str, float] = {}
        self.stale_timers: dict[str, asyncio.TimerHandle] = {}
        self.views: dict[tuple[str, str], View] = {}
        self.listeners: dict[str, set[LiveSocket]] = {}
        self.channel: str | None = None
        self.groups: set[str] = set()
        self.subscribing = False
        self.tasks: list[asyncio.Task[Any]] = []
        self.stale_edges: set[str] = set()
        self.render_queue = RenderQueue()
        self.deliveries = Deliveries(self._delivered)

    # Subscriptions

    async def join(
        self,
        socket: LiveSocket,
        topic: str,
        audience: str,
        render: Renderer,
        parts: frozenset[str] = events.COUNTS_ONLY,
        *,
        numbers_in_memory: bool = False,
    ) -> None:
        """Watch a topic's view and get its current state right away. `numbers_in_memory`: the
        view's numbers alone (its counts part) render from what the process holds, so an
        update of them is tried on the event loop (see live.views.render_in_memory)."""
        self._subscribe()
        key = (topic, audience)
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = View(topic, audience, parts, numbers_in_memory)
        view.sockets.add(socket)
        view.renderers[socket] = render
        snapshot = view.snapshot
        if snapshot is not None and not view.dirty:
            socket.push(snapshot)
            return
        view.waiting.add(socket)
        if view.rendering:
            # A render is under way (the first joiner's, or a flush): it delivers to this socket
            # when it ends. A thousand sockets joining one topic at once cost one render.
            return
        # The view changed since its last push: what this render changes is news to every
        # socket watching it (it also clears the parts a scheduled flush would act on).
        # A change arriving meanwhile is flushed once the delivery is done.
        self.deliveries.deliver(view, await self._refresh(view))

    async def listen(self, socket: LiveSocket, topic: str) -> None:
        """Receive the events meant for a topic (e.g. a user's access changes) without a view."""
        self._subscribe()
        self.listeners.setdefault(topic, set()).add(socket)

    async def leave(self, socket: LiveSocket) -> None:
        for key, view in list(self.views.items()):
            view.sockets.discard(socket)
            view.waiting.discard(socket)
            view.renderers.pop(socket, None)
            if not view.sockets:
                if view.scheduled:
                    view.scheduled.cancel()
                del self.views[key]
        for topic, sockets in list(self.listeners.items()):
            sockets.discard(socket)
            if not sockets:
                del self.listeners[topic]

    def _subscribe(self) -> None:
        """Make sure this process hears the live group; refuse at once while Redis is out."""
        if get_channel_layer() is None or self.channel is not None or self.subscribing:
            return
        if not redis_breaker.closed:
            raise LayerUnavailable
        self.subscribing = True
        self.tasks = [asyncio.get_running_loop().create_task(self._subscription())]

    async def _subscription(self) -> None:
        layer = get_channel_layer()
        try:
            channel = await layer.new_channel()
            await layer.group_add(events.LIVE_GROUP, channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("live hub could not subscribe", exc_info=True)
            self.subscribing = False
            await self._lose_layer()
            return
        self.channel, self.subscribing = channel, False
        self.groups.add(events.LIVE_GROUP)
        # From now on every report's event reaches this process: renders read the live state
        # only when an event says it moved (edges.live_state).
        live_state().start_listening()
        loop = asyncio.get_running_loop()
        self.tasks.extend(
            [
                loop.create_task(self._read()),
                loop.create_task(self._renew_groups()),
                loop.create_task(self._learn_report_ages()),
            ]
        )
        # Whatever was announced before the subscription took is caught up with.
        for view in list(self.views.values()):
            self.mark_dirty(view, view.whole)

    # Events in

    async def _read(self) -> None:
        layer = get_channel_layer()
        while True:
            try:
                message = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live hub lost the channel layer", exc_info=True)
                await self._lose_layer()
                return
            self.dispatch(message)

    async def stop(self, patience: float = 2.0) -> None:
        """Cancel the hub's tasks and wait (a little) for them to end."""
        await self.render_queue.stop(patience)
        tasks, self.tasks = [t for t in self.tasks if not t.done()], []
        tasks.extend(self.deliveries.stop())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=patience)

    async def _lose_layer(self) -> None:
        """Forget every subscription and ask every socket to reconnect."""
        redis_breaker.failed()
        live_state().stop_listening()
        sockets = {s for view in self.views.values() for s in view.sockets}
        sockets.update(s for listening in self.listeners.values() for s in listening)
        for view in self.views.values():
            if view.scheduled is not None:
                view.scheduled.cancel()
        for timer in self.stale_timers.values():
            timer.cancel()
        self.stale_timers.clear()
        self.reported.clear()
        self.stale_edges.clear()
        self.deliveries.stop()
        self.views.clear()
        self.listeners.clear()
        self.groups.clear()
        self.channel = None
        self.subscribing = False
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        self.tasks = []
        logger.warning("asking %d live sockets to reconnect", len(sockets))
        for socket in sockets:
            socket.reconnect()

    def dispatch(self, message: dict[str, Any]) -> None:
        event = message.get("event", "")
        payload = message.get("payload", {})
        if event == events.COUNTS_CHANGED and payload.get("reported"):
            self._heard_from(payload["reported"])
            if "seq" in payload:
                live_state().heard_of(payload["edge_id"], payload["seq"])
        elif event == events.ACCESS_CHANGED:
            grants.forget(payload.get("user"))
        elif event in DIRECTORY_EVENTS:
            # An upgrade or an edit changes the edge's proxy and hostname; a domain its domain
            # count, and which app a hostname an edge reports belongs to.
            edges_directory.forget()
            forget_edges()
        for topic in events.listener_topics(event, payload):
            for socket in list(self.listeners.get(topic, ())):
                socket.on_event(topic, event, payload)
        concerned = events.concerned_views(event, payload)
        for view in list(self.views.values()):
            parts = frozenset(concerned.get(view.topic, ()))
            if parts:
                self.mark_dirty(view, parts)

    def mark_dirty(self, view: View, parts: frozenset[str] = events.COUNTS_ONLY) -> None:
        view.dirty.update(part for part in parts if view.accepts(part))
        if not view.dirty:
            return
        if view.scheduled is not None or view.rendering or view.delivering:
            return
        loop = asyncio.get_running_loop()
        wait = max(0.0, view.last_push + settings.LIVE_MIN_INTERVAL - loop.time())
        view.scheduled = loop.call_later(wait, self._flush_soon, view)

    def _flush_soon(self, view: View) -> None:
        view.scheduled = None
        asyncio.get_running_loop().create_task(self._flush(view))

    async def _flush(self, view: View) -> None:
        if self.views.get((view.topic, view.audience)) is not view or not view.dirty:
            return
        if view.rendering or view.delivering:
            # A joining socket's render is under way, or the last render's delivery: one render
            # of a view at a time (each compares with the shape the one before it left), and
            # its sockets get its renders in order. What is left is flushed after it.
            return
        self.deliveries.deliver(view, await self._refresh(view))

    def _delivered(self, view: View) -> None:
        """A view's delivery is done: flush the changes that arrived meanwhile."""
        if view.dirty and self.views.get((view.topic, view.audience)) is view:
            self.mark_dirty(view, frozenset(view.dirty))

    async def _refresh(self, view: View) -> dict[str, str]:
        """Render the view's changed parts; answer those whose fragment differs from before."""
        view.rendering = True
        parts, view.dirty = frozenset(view.dirty), set()
        try:
            # A view is dropped with its last socket, so one renderer is always there.
            render = next(iter(view.renderers.values()))
            shapes = {p: view.shapes[p] for p in parts if p in view.shapes}
            rendered = render_in_memory(view, render, parts, shapes)
            if rendered is None:
                rendered = await self.render_queue.render(render, parts, shapes)
        except asyncio.CancelledError:
            view.dirty |= parts  # still to be rendered, by whoever renders the view next
            raise
        except Exception:
            logger.exception("could not render %s for %s", view.topic, view.audience)
            # Tried again at the next flush, no sooner than LIVE_MIN_INTERVAL from now.
            view.dirty |= parts
            view.last_push = asyncio.get_running_loop().time()
            return {}
        finally:
            view.rendering = False
        changed: dict[str, str] = {}
        for part, fragment in rendered.items():
            numbers = fragment if isinstance(fragment, Numbers) else None
            if numbers is not None and numbers.html is None:
                # The shape of the last render: only cells can differ.
                cells = view.changed_numbers(part, numbers)
                changed.update((cell_key(part, i), cell) for i, cell in cells.items())
                continue
            html = fragment if numbers is None else numbers.html
            before = view.fragment(part) if part in view.fragments else None
            if part in view.whole:
                # A family's members are sent when they change, never kept: a view of 10,000
                # apps would otherwise hold a row for each.
                view.keep(part, html, numbers)
            if before == html:
                continue
            cells = changed_cells(before, html)
            if cells is None:
                changed[part] = html
            else:
                changed.update((cell_key(part, i), cell) for i, cell in cells.items())
        view.last_push = asyncio.get_running_loop().time()
        return changed

    # Staleness: an edge going silent changes numbers without any report arriving.

    async def _learn_report_ages(self) -> None:
        """Once subscribed: when each edge last reported, before this hub heard of reports."""
        if self.report_ages is None:
            return
        try:
            ages = await database_sync_to_async(self.report_ages)()
        except Exception:
            logger.warning("could not read the edges' last reports", exc_info=True)
            return
        now = asyncio.get_running_loop().time()
        for name, age in ages.items():
            if name in self.reported:
                continue  # a report arrived meanwhile
            if age is None:
                self.stale_edges.add(name)
                continue
            self.reported[name] = now - age
            if age >= settings.EDGE_STALE_AFTER:
                self.stale_edges.add(name)
            else:
                self.stale_edges.discard(name)
                self._arm(name)

    def _heard_from(self, edge: str) -> None:
        self.reported[edge] = asyncio.get_running_loop().time()
        # Its report's own event re-renders what coming back changed.
        self.stale_edges.discard(edge)
        self._arm(edge)

    def _arm(self, edge: str) -> None:
        """One timer per edge, at the moment it turns stale unless it reports again."""
        if edge in self.stale_timers:
            return
        loop = asyncio.get_running_loop()
        due = self.reported[edge] + settings.EDGE_STALE_AFTER + STALE_MARGIN_SECONDS
        self.stale_timers[edge] = loop.call_later(max(0.0, due - loop.time()), self._due, edge)

    def _due(self, edge: str) -> None:
        self.stale_timers.pop(edge, None)
        loop = asyncio.get_running_loop()
        if loop.time() < self.reported[edge] + settings.EDGE_STALE_AFTER:
            self._arm(edge)  # it reported again since the timer was set
            return
        if edge not in self.stale_edges:
            self.stale_edges.add(edge)
            # A stale edge is greyed and out of the totals: the numbers change.
            for view in list(self.views.values()):
                self.mark_dirty(view, events.COUNTS_ONLY)

    async def _renew_groups(self) -> None:
        """Channel-layer group memberships expire; renew the ones in use."""
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            layer = get_channel_layer()
            for topic in list(self.groups):
                with contextlib.suppress(Exception):
                    await layer.group_add(topic, self.channel)


_hubs: dict[asyncio.AbstractEventLoop, LiveHub] = {}


def get_hub() -> LiveHub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = LiveHub(report_ages=edge_report_ages)
    return hub
