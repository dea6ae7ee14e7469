"""The live sockets: authenticate, authorize, subscribe, send a snapshot, then forward updates."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, close_old_connections
from django.http import QueryDict

from live import admission, events
from live.cells import SEPARATOR, is_cell_of
from live.eager import start_now
from live.grants import grants
from live.hub import LayerUnavailable, get_hub
from live.limits import CLOSE_POLICY_VIOLATION, RateLimitedConsumer
from live.ordering import PAGE_PARAM, SORT_PARAM
from live.topics import OVERVIEW, Topic, authorize

logger = logging.getLogger(__name__)

# Close codes the browser's htmx extension reconnects after.
CLOSE_TRY_AGAIN = 1013
CLOSE_POLICY = CLOSE_POLICY_VIOLATION
# A socket whose frame has not gone out for this long is closed, so it reconnects.
SLOW_SOCKET_SECONDS = 10.0


def _resolve(
    scope: dict[str, Any], kind: str, target: str, ticket: admission.Ticket
) -> tuple[Any, Topic | None] | None:
    """The socket's user and the topic it may watch (remembered by the process for a few
    seconds, see live.grants); None when the handshake waited too long for its turn."""
    if ticket.overdue():
        return None
    try:
        user = grants.user(scope.get("session"))
        return user, grants.topic(user, kind, target, authorize)
    finally:
        # Give the connection back to the pool from the context that opened it (this call
        # runs in a copy of the socket's context, which channels' own clean-up does not see).
        close_old_connections()


def _reauthorize(user: Any, kind: str, target: str) -> Topic | None:
    """The topic the user may watch now, their user row read afresh (roles change)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        user.refresh_from_db()
    except ObjectDoesNotExist:
        return None  # the account is gone
    return authorize(user, kind, target)


class LiveConsumer(RateLimitedConsumer):
    # No channel of its own per socket: the hub subscribes once per process. A per-socket
    # receive on Redis would also fail each socket with 1011 (not retried) when Redis goes.
    channel_layer_alias = None
    # Set when a socket whose frame has not gone out for SLOW_SOCKET_SECONDS is told to go.
    closing_slow = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels closes stale database connections before each message and again after a
        disconnect, each a trip to the one shared sync thread: a queue every handshake and
        every leaving socket of a storm would wait in. This consumer touches the database only
        in threads that close their own connections (live.admission for the handshake,
        database_sync_to_async for a re-check), so every message goes straight to its
        handler."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # Channels' own discards groups this consumer never joins (the hub holds them) and
        # closes database connections this consumer never opened on that thread.
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        self.kind = kwargs.get("kind", OVERVIEW)
        self.target = kwargs.get("name", "")
        # The order and page the page picked for one of its live tables (live.ordering).
        query = QueryDict(self.scope.get("query_string", b"").decode("latin1")[:200])
        self.order = (query.get(SORT_PARAM, "")[:60], query.get(PAGE_PARAM, "")[:6])
        # The parts not yet sent (part -> latest fragment): a slow socket skips to the latest.
        self.pending: dict[str, str] = {}
        self.audience: str | None = None
        self.sending_since: float | None = None
        self.drain: asyncio.Task[None] | None = None
        resolved = grants.remembered(self.scope.get("session"), self.kind, self.target)
        if resolved is None:
            resolved = await self._read_grant()
            if resolved is None:
                return  # told to come back later
        user, topic = resolved
        self.scope["user"] = user
        topic = topic.in_order(*self.order) if topic is not None else None
        # The audience the socket watches as: what it may see, decided now.
        self.audience = topic.audience if topic is not None else None
        if topic is None:
            await self.close()  # before accept: the handshake is refused
            return
        await self.accept()
        hub = get_hub()
        try:
            await hub.listen(self, events.user_topic(user.pk))
            await hub.join(
                self,
                topic.name,
                topic.audience,
                topic.render,
                topic.parts,
                # Every topic's numbers render from memory (live.renderers).
                numbers_in_memory=True,
            )
        except LayerUnavailable:
            # No live updates can reach this socket now: the browser retries after 1013.
            await self.close(code=CLOSE_TRY_AGAIN)

    async def _read_grant(self) -> tuple[Any, Topic | None] | None:
        """The user and topic, read in a handshake thread when the admission gate lets this
        handshake in; None (and the socket told to retry) when it does not or waited too long."""
        ticket = admission.gate.enter(self.scope)
        if ticket is None:
            await self._come_back_later()
            return None
        try:
            resolved = await admission.in_handshake_thread(_resolve)(
                self.scope, self.kind, self.target, ticket
            )
        except DatabaseError:
            logger.warning("live socket refused: the database is unavailable", exc_info=True)
            resolved = (None, None)
        finally:
            admission.gate.leave()
        if resolved is None:
            admission.gate.overdue += 1
            await self._come_back_later()
        return resolved

    async def _come_back_later(self) -> None:
        """Busy: no work done for this socket; the browser retries after a random delay."""
        await self.accept()
        await self.close(code=CLOSE_TRY_AGAIN)

    async def disconnect(self, code: int) -> None:
        await get_hub().leave(self)
        if self.drain is not None:
            self.drain.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The socket only pushes: what the browser sends, text or binary, is ignored (though
        counted against the frame rate limit)."""

    # Called by the hub

    def push(self, fragments: dict[str, str]) -> None:
        for key, html in fragments.items():
            if self.pending and SEPARATOR not in key:
                # A whole part carries its cells' latest values: those not yet sent are moot.
                for moot in [k for k in self.pending if is_cell_of(k, key)]:
                    del self.pending[moot]
            # Sent in the order of arrival: a cell newer than its part's whole goes after it.
            self.pending.pop(key, None)
            self.pending[key] = html
        if self.drain is None or self.drain.done():
            self.drain = start_now(self._drain())
        elif (
            self.sending_since
            and time.monotonic() - self.sending_since > SLOW_SOCKET_SECONDS
            and not self.closing_slow
        ):
            # Once: the pushes that keep coming while it closes need no close of their own.
            self.closing_slow = True
            asyncio.get_running_loop().create_task(self.close(code=CLOSE_TRY_AGAIN))

    async def _drain(self) -> None:
        while self.pending:
            frame, self.pending = "".join(self.pending.values()), {}
            self.sending_since = time.monotonic()
            try:
                await self.send(text_data=frame)
            except Disconnected:
                # The client went away between the push and the write: its disconnect is on
                # its way and takes the socket out of the hub; nothing is left to deliver.
                self.pending = {}
                return
            except Exception as refused:
                # The frame itself refused (e.g. past MAX_PUSH_BYTES): say so, never silently.
                logger.error(
                    "live frame of %d characters not sent to %s: %s",
                    len(frame),
                    self.scope["path"],
                    refused,
                )
                self.pending = {}
                return
            self.sending_since = None

    def reconnect(self) -> None:
        asyncio.get_running_loop().create_task(self.close(code=CLOSE_TRY_AGAIN))

    def on_event(self, topic: str, event: str, payload: dict[str, Any]) -> None:
        if event == events.ACCESS_CHANGED:
            asyncio.get_running_loop().create_task(self._recheck(payload))

    async def _recheck(self, payload: dict[str, Any]) -> None:
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if payload.get("session") and payload["session"] == key:
            await self.close(code=CLOSE_POLICY)
            return
        user = self.scope.get("user")
        topic = await database_sync_to_async(_reauthorize)(user, self.kind, self.target)
        topic = topic.in_order(*self.order) if topic is not None else None
        if topic is None:
            await self.close(code=CLOSE_POLICY)
        elif topic.audience != self.audience:
            # Still allowed, but to see other things (a membership gained or lost): the socket
            # must not stay in a view rendered for its old access. It comes back under the new.
            await self.close(code=CLOSE_TRY_AGAIN)
