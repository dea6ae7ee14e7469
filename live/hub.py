"""Fan-out of live numbers inside one server process.

Each process subscribes once to the channel layer's one live group, which every event goes to
(changes are rare, or already one message per report: each process hearing every one costs
less than a group per topic to join on a socket's way in). The hub coalesces each view's
changes (latest state wins, at most one push per LIVE_MIN_INTERVAL, the first change after a
quiet period at once), renders the fragment once per update and writes it to each local socket.
A socket keeps at most one pending frame, so a slow one skips to the latest state and never
holds the others back.

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
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from live import events
from live.staleness import stale_edge_names
from shared.breaker import redis as redis_breaker

logger = logging.getLogger(__name__)

STALENESS_POLL_SECONDS = 1.0
GROUP_REFRESH_SECONDS = 3600.0


class LiveSocket(Protocol):
    def push(self, frame: str) -> None: ...

    def on_event(self, topic: str, event: str, payload: dict[str, Any]) -> None: ...

    def reconnect(self) -> None:
        """Close so that the client connects again (the hub lost the channel layer)."""


class LayerUnavailable(Exception):
    """The channel layer cannot be reached; try again shortly."""


Renderer = Callable[[], str]


@dataclass
class View:
    """One topic as one audience sees it, with the sockets watching it."""

    topic: str
    audience: str
    render: Renderer
    sockets: set[LiveSocket] = field(default_factory=set)
    frame: str | None = None
    dirty: bool = True
    last_push: float = float("-inf")
    scheduled: asyncio.TimerHandle | None = None
    rendering: bool = False
    # Sockets that joined while the view had no current frame: the next render is theirs.
    waiting: set[LiveSocket] = field(default_factory=set)

    def deliver(self, before: str | None) -> None:
        """After a render: a new frame to every socket, an unchanged one to those waiting."""
        if self.frame is not None:
            for socket in list(self.sockets if self.frame != before else self.waiting):
                socket.push(self.frame)
            self.waiting.clear()


class LiveHub:
    def __init__(self, *, stale_reader: Callable[[], set[str]] | None = None) -> None:
        # Numbers can change without an event (an edge going silent): the reader names what is
        # stale now, and every view is refreshed when that changes.
        self.stale_reader = stale_reader
        self.views: dict[tuple[str, str], View] = {}
        self.listeners: dict[str, set[LiveSocket]] = {}
        self.channel: str | None = None
        self.groups: set[str] = set()
        self.subscribing = False
        self.tasks: list[asyncio.Task[Any]] = []
        self.stale_edges: set[str] | None = None

    # Subscriptions

    async def join(self, socket: LiveSocket, topic: str, audience: str, render: Renderer) -> None:
        """Watch a topic's view and get its current state right away."""
        self._subscribe()
        key = (topic, audience)
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = View(topic, audience, render)
        view.sockets.add(socket)
        if view.frame is not None and not view.dirty:
            socket.push(view.frame)
            return
        view.waiting.add(socket)
        if view.rendering:
            # A render is under way (the first joiner's, or a flush): it delivers to this socket
            # when it ends. A thousand sockets joining one topic at once cost one render.
            return
        # The view changed since its last push: if this render differs it is news to every
        # socket watching it (it also clears the dirty flag a scheduled flush would act on).
        before = view.frame
        await self._refresh(view)
        view.deliver(before)
        if view.dirty:
            # A change arrived while this render ran; mark_dirty left it to the render's end.
            self.mark_dirty(view)

    async def listen(self, socket: LiveSocket, topic: str) -> None:
        """Receive the events meant for a topic (e.g. a user's access changes) without a view."""
        self._subscribe()
        self.listeners.setdefault(topic, set()).add(socket)

    async def leave(self, socket: LiveSocket) -> None:
        for key, view in list(self.views.items()):
            view.sockets.discard(socket)
            view.waiting.discard(socket)
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
        loop = asyncio.get_running_loop()
        self.tasks.extend([loop.create_task(self._read()), loop.create_task(self._watch())])
        # Whatever was announced before the subscription took is caught up with.
        for view in list(self.views.values()):
            self.mark_dirty(view)

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

    async def _lose_layer(self) -> None:
        """Forget every subscription and ask every socket to reconnect."""
        redis_breaker.failed()
        sockets = {s for view in self.views.values() for s in view.sockets}
        sockets.update(s for listening in self.listeners.values() for s in listening)
        for view in self.views.values():
            if view.scheduled is not None:
                view.scheduled.cancel()
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
        for topic in events.listener_topics(event, payload):
            for socket in list(self.listeners.get(topic, ())):
                socket.on_event(topic, event, payload)
        concerned = events.concerned_topics(event, payload)
        for view in list(self.views.values()):
            if view.topic in concerned:
                self.mark_dirty(view)

    def mark_dirty(self, view: View) -> None:
        view.dirty = True
        if view.scheduled is not None or view.rendering:
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
        before = view.frame
        await self._refresh(view)
        view.deliver(before)
        if view.dirty:
            self.mark_dirty(view)

    async def _refresh(self, view: View) -> None:
        view.rendering = True
        view.dirty = False
        try:
            view.frame = await database_sync_to_async(_render)(view.render)
            view.last_push = asyncio.get_running_loop().time()
        except Exception:
            logger.exception("could not render %s for %s", view.topic, view.audience)
        finally:
            view.rendering = False

    # Staleness: an edge going silent changes numbers without any report arriving.

    async def _watch(self) -> None:
        elapsed = 0.0
        reader = self.stale_reader
        if reader is not None:
            with contextlib.suppress(Exception):
                self.stale_edges = await database_sync_to_async(reader)()
        while True:
            await asyncio.sleep(STALENESS_POLL_SECONDS)
            elapsed += STALENESS_POLL_SECONDS
            if not self.views or reader is None:
                continue
            try:
                stale = await database_sync_to_async(reader)()
            except Exception:
                logger.warning("could not read edge staleness", exc_info=True)
                continue
            if self.stale_edges is not None and stale != self.stale_edges:
                for view in list(self.views.values()):
                    self.mark_dirty(view)
            self.stale_edges = stale
            if elapsed >= GROUP_REFRESH_SECONDS:
                # Channel-layer group memberships expire; renew the ones in use.
                elapsed = 0.0
                layer = get_channel_layer()
                for topic in list(self.groups):
                    with contextlib.suppress(Exception):
                        await layer.group_add(topic, self.channel)


def _render(render: Renderer) -> str:
    return render()


_hubs: dict[asyncio.AbstractEventLoop, LiveHub] = {}


def get_hub() -> LiveHub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = LiveHub(stale_reader=stale_edge_names)
    return hub
