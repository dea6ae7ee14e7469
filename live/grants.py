"""Who a socket's session belongs to and what that user may watch, remembered by the process
for a few seconds.

A reconnect storm brings the same users back for the same topics hundreds of times a second:
after a deploy, every tab of every support engineer reconnects within a second or two. Reading
the session, the user row and running the visibility query for each of them is most of what a
handshake costs, so a process keeps the answers for LIVE_GRANT_SECONDS.

What bounds a remembered answer:
- an access change announced for a user (membership, sign-out) drops that user's answers in
  every process at once (each hub hears every event);
- anything that changes access without an announcement (a session expiring, a password change,
  an edit made in the admin site or straight in the database) is honoured by new handshakes for
  at most LIVE_GRANT_SECONDS. Sockets already open are not affected either way: they are
  rechecked on every announced access change, from the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser

# Beyond this many sessions a process starts again from empty rather than grow without bound.
MAX_SESSIONS = 10_000


def _unexpired(entry: tuple[float, Any] | None, now: float) -> tuple[float, Any] | None:
    """A remembered (expires, answer) that still holds, else None."""
    return entry if entry is not None and entry[0] > now else None


class _SessionOf:
    """What django.contrib.auth.get_user reads of a request: its session."""

    def __init__(self, session: Any) -> None:
        self.session = session


class Grants:
    """Per process, shared by the handshake threads; entries are replaced, never mutated."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        # session key -> (expires, user)
        self.sessions: dict[str, tuple[float, Any]] = {}
        # user pk -> {(kind, target): (expires, topic or None)}
        self.topics: dict[Any, dict[tuple[str, str], tuple[float, Any]]] = {}

    def user(self, session: Any) -> Any:
        """The session's user, as django.contrib.auth.get_user would return it; a session
        seen in the last few seconds is not read again."""
        key = getattr(session, "session_key", None)
        if key is None:
            return AnonymousUser()
        now = self.clock()
        known = _unexpired(self.sessions.get(key), now)
        if known is not None:
            return known[1]
        user = get_user(_SessionOf(session))
        if user.is_authenticated:
            with self.lock:
                if len(self.sessions) >= MAX_SESSIONS:
                    self.sessions.clear()
                    self.topics.clear()
                self.sessions[key] = (now + settings.LIVE_GRANT_SECONDS, user)
        return user

    def topic(self, user: Any, kind: str, target: str, authorize: Callable[..., Any]) -> Any:
        """What `authorize(user, kind, target)` answers, refusals included."""
        if not user.is_authenticated:
            return authorize(user, kind, target)
        now = self.clock()
        known = _unexpired(self.topics.get(user.pk, {}).get((kind, target)), now)
        if known is not None:
            return known[1]
        topic = authorize(user, kind, target)
        with self.lock:
            mine = dict(self.topics.get(user.pk, {}))
            mine[(kind, target)] = (now + settings.LIVE_GRANT_SECONDS, topic)
            self.topics[user.pk] = mine
        return topic

    def remembered(self, session: Any, kind: str, target: str) -> tuple[Any, Any] | None:
        """What user() then topic() would answer, when both answers are still remembered;
        None when either would have to be read. Reads nothing: safe on the event loop, so a
        socket coming back within a few seconds skips the handshake threads altogether."""
        key = getattr(session, "session_key", None)
        if key is None:
            return None
        now = self.clock()
        known = _unexpired(self.sessions.get(key), now)
        if known is None:
            return None
        answer = _unexpired(self.topics.get(known[1].pk, {}).get((kind, target)), now)
        return (known[1], answer[1]) if answer is not None else None

    def forget(self, user_pk: Any = None) -> None:
        """Drop one user's answers (their access changed), or everyone's."""
        with self.lock:
            if user_pk is None:
                self.sessions.clear()
                self.topics.clear()
                return
            self.topics.pop(user_pk, None)
            self.sessions = {k: v for k, v in self.sessions.items() if v[1].pk != user_pk}


grants = Grants()
