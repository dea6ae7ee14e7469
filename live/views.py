"""What the hub keeps for each view it serves (one topic as one audience sees it): the sockets
watching it, the fragments last sent, the parts waiting for a render, and for parts rendered as
numbers (live.cells.Numbers) the shape of their last whole render and the cells sent since."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.core.exceptions import SynchronousOnlyOperation

from edges.live_state import live_state
from live import events
from live.cells import Numbers, Rendered, with_cells
from live.eager import start_now

logger = logging.getLogger(__name__)

# Sockets written to before the event loop gets a turn: the frames of those already written go
# out to the network (and their clients) while the next ones are written.
DELIVERY_BATCH = 100


class LiveSocket(Protocol):
    def push(self, fragments: dict[str, str]) -> None:
        """Send these parts' latest fragments (part -> HTML), replacing any not yet sent; a key
        `part#id` is one cell of a part (live.cells)."""

    def on_event(self, topic: str, event: str, payload: dict[str, Any]) -> None: ...

    def reconnect(self) -> None:
        """Close so that the client connects again (the hub lost the channel layer)."""


# Renders the named parts of a view: part -> fragment, or its numbers.
Renderer = Callable[[frozenset[str]], Rendered]


def render_changed(render: Renderer, parts: frozenset[str], shapes: dict[str, Any]) -> Rendered:
    """`render`, with the whole fragment of every part whose numbers are of a shape other than
    `shapes` says its last render had (parts as numbers of the same shape send their cells)."""
    rendered = render(parts)
    for part, fragment in rendered.items():
        if isinstance(fragment, Numbers) and shapes.get(part) != fragment.shape:
            fragment.html = fragment.whole()
    return rendered


def _render_all(jobs: list[tuple[Renderer, frozenset[str], dict[str, Any]]]) -> list[Any]:
    """Each job's render (or the exception it raised), in the database thread."""
    results: list[Any] = []
    for render, parts, shapes in jobs:
        try:
            results.append((True, render_changed(render, parts, shapes)))
        except Exception as error:
            results.append((False, error))
    return results


# At most this many views' renders per trip to the database thread (the first view of a trip
# waits for the others to be rendered).
RENDER_BATCH = 64


class RenderQueue:
    """Renders go to the one database thread together: the views a report changes (dozens) are
    due at the same moment, and one trip to the thread for all of them costs one hand-over of
    the interpreter each way instead of one per view."""

    def __init__(self) -> None:
        self.jobs: deque[tuple[Renderer, frozenset[str], dict[str, Any], asyncio.Future[Any]]]
        self.jobs = deque()
        self.task: asyncio.Task[None] | None = None
        self.stopped = False

    async def render(
        self, render: Renderer, parts: frozenset[str], shapes: dict[str, Any]
    ) -> Rendered:
        if self.stopped:
            raise asyncio.CancelledError
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Rendered] = loop.create_future()
        self.jobs.append((render, parts, shapes, future))
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[Any] = []
        try:
            while self.jobs:
                batch = [self.jobs.popleft() for _ in range(min(RENDER_BATCH, len(self.jobs)))]
                try:
                    results = await database_sync_to_async(_render_all)([j[:3] for j in batch])
                except Exception as error:
                    # The trip itself failed (not one render): each view hears it as its
                    # render's failure, and keeps its changes for the next flush.
                    results = [(False, error)] * len(batch)
                for (*_, future), (ok, value) in zip(batch, results, strict=True):
                    if future.done():
                        continue  # its view's flush was cancelled
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            # Cancelled with the hub: nobody is left to render for.
            for *_, future in [*batch, *self.jobs]:
                if not future.done():
                    future.cancel()

    async def stop(self, patience: float) -> None:
        """Render nothing more, and let the renders under way in the thread end (a task
        cancelled there would leave them running)."""
        self.stopped = True
        while self.jobs:
            self.jobs.popleft()[3].cancel()
        if self.task is not None and not self.task.done():
            await asyncio.wait([self.task], timeout=patience)
            self.task.cancel()


@dataclass
class View:
    """One topic as one audience sees it, with the sockets watching it."""

    topic: str
    audience: str
    parts: frozenset[str] = events.COUNTS_ONLY
    # Its numbers alone render from memory (LiveHub.join).
    numbers_in_memory: bool = False
    sockets: set[LiveSocket] = field(default_factory=set)
    fragments: dict[str, str] = field(default_factory=dict)
    # The parts changed since their last render (all of them until the first).
    dirty: set[str] = field(default_factory=set)
    last_push: float = float("-inf")
    scheduled: asyncio.TimerHandle | None = None
    rendering: bool = False
    # Deliveries of this view's renders queued or under way (LiveHub._deliver).
    delivering: int = 0
    # Sockets that joined while the view had no current snapshot: the next render is theirs.
    waiting: set[LiveSocket] = field(default_factory=set)
    # Each socket's own renderer (they render the same for one audience); the view renders with
    # one of a socket still watching, so a viewer who has left (e.g. lost their membership) is
    # never the one the others' panels are rendered for.
    renderers: dict[LiveSocket, Renderer] = field(default_factory=dict)
    # Parts rendered as numbers (live.cells.Numbers): the shape of their last whole render and
    # the cells sent since; `outdated`: those whose fragment lacks cells sent since.
    shapes: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    cells: dict[str, dict[str, str]] = field(default_factory=dict)
    outdated: set[str] = field(default_factory=set)
    # Filled from `parts`: the families of parts this view lists, and its parts proper.
    families: frozenset[str] = field(init=False)
    whole: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.families = frozenset(p for p in self.parts if events.is_family(p))
        self.whole = self.parts - self.families
        self.dirty = set(self.whole)

    def accepts(self, part: str) -> bool:
        """A part of this view: one of its own, or a member of a family it lists."""
        return part in self.whole or any(part.startswith(f) for f in self.families)

    @property
    def snapshot(self) -> dict[str, str] | None:
        """Every part's latest fragment, once each has been rendered (a family's members are
        rendered by the page itself and only pushed when they change)."""
        if not self.whole <= self.fragments.keys():
            return None
        return {part: self.fragment(part) for part in sorted(self.whole)}

    def fragment(self, part: str) -> str:
        """A part's latest fragment: its last whole render, with the cells sent since."""
        if part in self.outdated:
            self.outdated.discard(part)
            self.fragments[part] = with_cells(self.fragments[part], self.cells[part])
        return self.fragments[part]

    def keep(self, part: str, html: str, numbers: Numbers | None) -> None:
        """A part's new whole render (and the numbers it was rendered from)."""
        self.fragments[part] = html
        self.outdated.discard(part)
        if numbers is None:
            self.shapes.pop(part, None)
            self.cells.pop(part, None)
        else:
            self.shapes[part], self.cells[part] = numbers.shape, numbers.cells

    def changed_numbers(self, part: str, numbers: Numbers) -> dict[str, str]:
        """The cells of a part's numbers (of its last shape) that differ from those sent."""
        sent = self.cells[part]
        changed = {i: cell for i, cell in numbers.cells.items() if sent.get(i) != cell}
        if changed:
            self.cells[part] = numbers.cells
            self.outdated.add(part)
        return changed

    def recipients(self, changed: dict[str, str]) -> list[tuple[LiveSocket, dict[str, str]]]:
        """After a render: what changed for every socket, the whole view for those waiting."""
        if not self.whole <= self.fragments.keys():
            return []  # a part never rendered yet: no socket has the view to change
        # The whole view (its fragments brought up to date with the cells sent since) only
        # for a socket that needs it.
        sent: list[tuple[LiveSocket, dict[str, str]]] = []
        if self.waiting:
            snapshot = self.snapshot
            sent = [(socket, snapshot) for socket in self.waiting]
        if changed:
            sent.extend((socket, changed) for socket in self.sockets - self.waiting)
        self.waiting.clear()
        return sent


def render_in_memory(
    view: View, render: Renderer, parts: frozenset[str], shapes: dict[str, Any]
) -> Rendered | None:
    """A view's numbers alone, rendered on the event loop when all they need is in memory: the
    live state current (no Redis read due), the directories warm, the shape the last render
    left (its cells alone are sent). A render of a few dozen microseconds then costs no trip
    to the database thread and back. None when the render must go there: Django refuses a
    query on the loop (a directory due to be read afresh), or the numbers' shape changed (its
    whole fragment is a template's to render)."""
    if not (view.numbers_in_memory and parts == events.COUNTS_ONLY and live_state().current()):
        return None
    try:
        rendered = render(parts)
    except SynchronousOnlyOperation:
        return None
    for part, fragment in rendered.items():
        if not isinstance(fragment, Numbers) or shapes.get(part) != fragment.shape:
            return None
    return rendered


class Deliveries:
    """Renders' frames written to their views' sockets in the order rendered, DELIVERY_BATCH
    sockets at a time: a thousand sockets' frames would otherwise all wait for the last of them
    to be written before the first goes out. `delivered(view)` is told when a view's is done."""

    def __init__(self, delivered: Callable[[View], None]) -> None:
        self.delivered = delivered
        self.queue: deque[tuple[View, dict[str, str]]] = deque()
        self.task: asyncio.Task[None] | None = None

    def deliver(self, view: View, changed: dict[str, str]) -> None:
        """Queue a render's frames and start writing (at once, on the caller's stack)."""
        view.delivering += 1
        self.queue.append((view, changed))
        if self.task is None or self.task.done():
            self.task = start_now(self._write())

    async def _write(self) -> None:
        budget = DELIVERY_BATCH
        while self.queue:
            view, changed = self.queue.popleft()
            try:
                for socket, fragments in view.recipients(changed):
                    try:
                        socket.push(fragments)
                    except Exception:
                        logger.exception("could not push %s to a socket", view.topic)
                    budget -= 1
                    if budget == 0:
                        await asyncio.sleep(0)
                        budget = DELIVERY_BATCH
            finally:
                view.delivering -= 1
            self.delivered(view)

    def stop(self) -> list[asyncio.Task[None]]:
        """Deliver nothing more; answers the writing task still running, cancelled."""
        self.queue.clear()
        if self.task is None or self.task.done():
            return []
        self.task.cancel()
        return [self.task]
