"""A re-rendered panel goes out as only the cells that changed when its shape is the same."""

from __future__ import annotations

from live.cells import changed_cells

PANEL = (
    '<section id="app-live" class="panel"><h2>Live</h2>'
    '<span id="total" data-count="{total}">{total}</span>'
    '<table><tr class="{row}"><td><span id="host" data-count="{host}">{host}</span></td></tr>'
    '</table><time id="as-of" datetime="{at}">{at}</time></section>'
)


def panel(total: int = 1, host: int = 1, at: str = "10:00:00", row: str = "") -> str:
    return PANEL.format(total=total, host=host, at=at, row=row)


def test_only_the_cells_whose_value_changed_are_sent() -> None:
    cells = changed_cells(panel(), panel(total=2, at="10:00:01"))
    assert cells == {
        "total": '<span id="total" data-count="2">2</span>',
        "as-of": '<time id="as-of" datetime="10:00:01">10:00:01</time>',
    }


def test_nothing_changed_is_no_cell() -> None:
    assert changed_cells(panel(), panel()) == {}


def test_the_whole_panel_goes_out_when_its_shape_changed_or_nothing_was_sent_before() -> None:
    assert changed_cells(None, panel()) is None
    assert changed_cells(panel(), panel(host=2, row="stale")) is None
    assert (
        changed_cells(panel(), panel().replace("</table>", "<tr><td>new</td></tr></table>")) is None
    )


def test_cells_sharing_an_id_cannot_be_swapped_one_by_one() -> None:
    twice = panel() + '<span id="total" data-count="1">1</span>'
    assert changed_cells(twice, twice.replace(">1<", ">2<")) is None


def test_a_panel_without_cells_is_sent_whole() -> None:
    assert changed_cells("<p>a</p>", "<p>b</p>") is None


async def test_a_socket_behind_sends_the_latest_of_each_in_the_order_they_came() -> None:
    import asyncio

    from live.consumers import LiveConsumer

    socket = LiveConsumer()
    socket.pending, socket.sending_since = {}, None
    # A frame is on its way: what is pushed meanwhile waits.
    socket.drain = asyncio.get_running_loop().create_future()
    socket.push({"counts#total": "1"})
    socket.push({"counts": "panel 2"})
    socket.push({"counts#total": "3"})
    # The cell newer than the whole panel goes after it, so the page ends on 3.
    assert list(socket.pending.items()) == [("counts", "panel 2"), ("counts#total", "3")]
    socket.push({"counts": "panel 4", "features": "switches"})
    assert socket.pending == {"counts": "panel 4", "features": "switches"}
    socket.drain.cancel()
