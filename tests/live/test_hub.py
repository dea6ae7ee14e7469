"""The hub's bookkeeping: a change is never swallowed by a socket joining at the wrong moment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from live.hub import LiveHub

pytestmark = pytest.mark.django_db(transaction=True)  # the hub renders in a database thread


class Socket:
    def __init__(self) -> None:
        self.frames: list[str] = []

    def push(self, fragments: dict[str, str]) -> None:
        self.frames.append("".join(fragments.values()))

    def on_event(self, topic: str, event: str, payload: dict[str, Any]) -> None:
        pass

    def reconnect(self) -> None:
        pass


async def test_a_socket_joining_after_a_change_does_not_swallow_it_for_the_others(
    settings: Any,
) -> None:
    settings.LIVE_MIN_INTERVAL = 0.05
    hub = LiveHub()
    state = {"count": 1}

    def render(parts: frozenset[str]) -> dict[str, str]:
        return {"counts": f"<p>{state['count']}</p>"}

    first = Socket()
    await hub.join(first, "app.acme-web", "all", render)
    state["count"] = 2
    hub.mark_dirty(hub.views[("app.acme-web", "all")])  # a change arrives; a flush is scheduled
    second = Socket()
    await hub.join(second, "app.acme-web", "all", render)  # before that flush runs
    await asyncio.sleep(0.3)

    assert first.frames[-1] == second.frames[-1] == "<p>2</p>"
    for task in hub.tasks:
        task.cancel()


async def test_a_change_during_a_joining_render_is_pushed_after_it(settings: Any) -> None:
    settings.LIVE_MIN_INTERVAL = 0.05
    hub = LiveHub()
    state = {"count": 1}

    def render(parts: frozenset[str]) -> dict[str, str]:
        value = state["count"]
        if value == 1 and ("app.acme-web", "all") in hub.views:
            # The report commits while this render is running.
            state["count"] = 2
            loop.call_soon_threadsafe(hub.mark_dirty, hub.views[("app.acme-web", "all")])
        return {"counts": f"<p>{value}</p>"}

    loop = asyncio.get_running_loop()
    socket = Socket()
    await hub.join(socket, "app.acme-web", "all", render)
    await asyncio.sleep(0.3)

    assert socket.frames == ["<p>1</p>", "<p>2</p>"]
    for task in hub.tasks:
        task.cancel()


async def test_sockets_joining_during_the_first_render_share_it(settings: Any) -> None:
    settings.LIVE_MIN_INTERVAL = 0.05
    hub = LiveHub()
    renders = []

    def render(parts: frozenset[str]) -> dict[str, str]:
        renders.append(1)
        return {"counts": "<p>snapshot</p>"}

    sockets = [Socket() for _ in range(50)]
    await asyncio.gather(*(hub.join(s, "app.acme-web", "all", render) for s in sockets))

    assert len(renders) == 1
    assert all(s.frames == ["<p>snapshot</p>"] for s in sockets)
    for task in hub.tasks:
        task.cancel()


async def test_an_event_renders_and_sends_only_the_parts_it_changed(settings: Any) -> None:
    settings.LIVE_MIN_INTERVAL = 0
    hub = LiveHub()
    state = {"counts": 1, "features": "off", "backends": "none"}
    rendered: list[frozenset[str]] = []

    def render(parts: frozenset[str]) -> dict[str, str]:
        rendered.append(parts)
        return {part: f"<p id={part}>{state[part]}</p>" for part in parts}

    hub.channel = "heard"  # already subscribed: no catch-up render of everything
    socket = Socket()
    everything = frozenset(state)
    await hub.join(socket, "app.acme-web", "staff", render, everything)
    state["features"] = "on"
    hub.dispatch({"event": "feature.changed", "payload": {"app": "acme-web", "feature": "x"}})
    await asyncio.sleep(0.2)

    # The first frame is the whole view; the event's frame only the part that changed (the
    # readiness part the event also names is not one of this view's parts).
    assert rendered == [everything, frozenset({"features"})]
    assert socket.frames[0].count("<p id=") == 3
    assert socket.frames[1:] == ["<p id=features>on</p>"]
    for task in hub.tasks:
        task.cancel()


async def test_an_event_for_another_topic_renders_nothing(settings: Any) -> None:
    settings.LIVE_MIN_INTERVAL = 0
    hub = LiveHub()
    rendered: list[frozenset[str]] = []

    def render(parts: frozenset[str]) -> dict[str, str]:
        rendered.append(parts)
        return {part: "<p>x</p>" for part in parts}

    hub.channel = "heard"
    await hub.join(Socket(), "app.acme-web", "staff", render, frozenset({"counts", "backends"}))
    hub.dispatch({"event": "backends.changed", "payload": {"app": "acme-api", "address": "a"}})
    await asyncio.sleep(0.2)

    assert len(rendered) == 1
    for task in hub.tasks:
        task.cancel()


async def test_a_failed_render_is_tried_again_not_dropped(settings: Any) -> None:
    settings.LIVE_MIN_INTERVAL = 0.05
    hub = LiveHub()
    hub.channel = "heard"
    attempts: list[frozenset[str]] = []

    def render(parts: frozenset[str]) -> dict[str, str]:
        attempts.append(parts)
        if len(attempts) == 2:
            raise RuntimeError("the database went away for a moment")
        return {part: f"<p id={part}>{len(attempts)}</p>" for part in parts}

    socket = Socket()
    await hub.join(socket, "app.acme-web", "staff", render, frozenset({"counts", "features"}))
    hub.dispatch({"event": "feature.changed", "payload": {"app": "acme-web", "feature": "x"}})
    await asyncio.sleep(0.4)

    # The second render failed; the features part was rendered again at the next flush.
    assert attempts == [
        frozenset({"counts", "features"}),
        frozenset({"features"}),
        frozenset({"features"}),
    ]
    assert socket.frames[-1] == "<p id=features>3</p>"
    for task in hub.tasks:
        task.cancel()


@pytest.mark.parametrize("event", ["edge.upgrade_changed", "edge.changed", "domains.changed"])
def test_an_edge_or_domain_change_makes_the_process_read_its_edges_afresh(
    event: str, world: Any
) -> None:
    from edges.directories import edges_directory
    from edges.models import Edge

    edge = Edge.objects.get(name="acme-ssl")
    assert edges_directory.of([edge.pk])[edge.pk].proxy == edge.proxy
    Edge.objects.filter(pk=edge.pk).update(hostname="moved.example.net")
    assert edges_directory.of([edge.pk])[edge.pk].hostname != "moved.example.net"  # remembered
    payload = {"edge": "acme-ssl", "app": "acme-web", "apps": ["acme-web"], "organization": "acme"}
    LiveHub().dispatch({"event": event, "payload": payload})
    assert edges_directory.of([edge.pk])[edge.pk].hostname == "moved.example.net"


async def test_a_stopped_hub_has_ended_its_tasks() -> None:
    hub = LiveHub()
    forever = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
    hub.tasks = [forever]
    await hub.stop()
    assert forever.cancelled() and hub.tasks == []


async def test_numbers_of_one_shape_go_out_as_their_changed_cells_and_joiners_get_them_whole(
    settings: Any,
) -> None:
    from live.cells import Numbers, count_cell

    settings.LIVE_MIN_INTERVAL = 0.05
    hub = LiveHub()
    state = {"rows": ["a", "b"], "count": 1, "wholes": 0}

    def render(parts: frozenset[str]) -> dict[str, Any]:
        rows, count = list(state["rows"]), state["count"]
        cells = {f"n-{row}": count_cell(f"n-{row}", count if row == "a" else 7) for row in rows}

        def whole() -> str:
            state["wholes"] += 1
            return (
                '<div id="counts">' + "".join(f"<p>{cells[f'n-{r}']}</p>" for r in rows) + "</div>"
            )

        return {"counts": Numbers(tuple(rows), cells, whole)}

    def settle() -> Any:
        return asyncio.sleep(0.3)

    view_key = ("app.acme-web", "all")
    first = Socket()
    await hub.join(first, *view_key, render)
    state["count"] = 2
    hub.mark_dirty(hub.views[view_key])
    await settle()
    # The same rows: the one number that changed, by itself, and no template rendered for it.
    assert first.frames[-1] == '<span id="n-a" data-count="2">2</span>'
    assert state["wholes"] == 1

    joiner = Socket()
    await hub.join(joiner, *view_key, render)
    assert joiner.frames == [
        '<div id="counts"><p><span id="n-a" data-count="2">2</span></p>'
        '<p><span id="n-b" data-count="7">7</span></p></div>'
    ]
    state["rows"] = ["a", "b", "c"]
    hub.mark_dirty(hub.views[view_key])
    await settle()
    # A new row: the panel goes out whole.
    assert first.frames[-1] == joiner.frames[-1]
    assert first.frames[-1].count("<p>") == 3 and state["wholes"] == 2
    await hub.stop()


async def test_a_view_is_never_rendered_twice_at_once(settings: Any) -> None:
    """A socket joining renders the view; a flush that comes due meanwhile waits for that
    render, since each render compares with the shape the one before it left: here a row comes
    and goes again, and every page ends with the one row a reload shows."""
    import threading

    from live.cells import Numbers, count_cell

    settings.LIVE_MIN_INTERVAL = 0.2
    hub = LiveHub()
    state: dict[str, Any] = {"rows": ["a"], "hold": False}
    release = threading.Event()

    def render(parts: frozenset[str]) -> dict[str, Any]:
        if state["hold"]:
            state["hold"] = False
            release.wait(5)  # the joiner's render takes a while...
            rows = ["a", "b"]
            state["rows"] = ["a"]  # ...and the row is gone again by the next render
        else:
            rows = list(state["rows"])
        cells = {f"n-{row}": count_cell(f"n-{row}", 1) for row in rows}

        def whole() -> str:
            return '<div id="counts">' + "".join(cells.values()) + "</div>"

        return {"counts": Numbers(tuple(rows), cells, whole)}

    key = ("app.acme-web", "all")
    first = Socket()
    await hub.join(first, *key, render)
    state["hold"] = True
    hub.mark_dirty(hub.views[key])  # a flush is due 0.2 s after the first render
    second = Socket()
    joining = asyncio.create_task(hub.join(second, *key, render))  # renders at once
    await asyncio.sleep(0.05)
    hub.mark_dirty(hub.views[key])  # another change, while that render runs
    await asyncio.sleep(0.3)  # the flush comes due meanwhile
    release.set()
    await joining
    await asyncio.sleep(0.5)
    one_row = '<div id="counts"><span id="n-a" data-count="1">1</span></div>'
    assert hub.views[key].snapshot == {"counts": one_row}
    assert first.frames[-1] == second.frames[-1] == one_row
    await hub.stop()


async def test_one_failing_render_in_a_trip_fails_only_its_view() -> None:
    from live.views import RenderQueue

    queue = RenderQueue()

    def good(parts: frozenset[str]) -> dict[str, str]:
        return {"counts": "<p>1</p>"}

    def bad(parts: frozenset[str]) -> dict[str, str]:
        raise RuntimeError("no such app")

    results = await asyncio.gather(
        queue.render(good, frozenset({"counts"}), {}),
        queue.render(bad, frozenset({"counts"}), {}),
        queue.render(good, frozenset({"counts"}), {}),
        return_exceptions=True,
    )
    assert results[0] == results[2] == {"counts": "<p>1</p>"}
    assert isinstance(results[1], RuntimeError)
    await queue.stop(1.0)
    with pytest.raises(asyncio.CancelledError):
        await queue.render(good, frozenset({"counts"}), {})
