"""On a 390 px wide phone every table can be read: nothing is cut off by the page, a wide table
scrolls sideways in its own box (by keyboard too) with its first column kept in view, and names
are not broken inside a word."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import EVERY_PAGE, Server, login

pytestmark = pytest.mark.e2e

WIDTH = 390

# Every problem on the page, in words; an empty list when the page reads well at its width.
PROBLEMS = """() => {
    const problems = [];
    const width = document.documentElement.clientWidth;
    const doc = document.documentElement.scrollWidth;
    if (doc > width) problems.push(`the page is ${doc} px wide`);
    const name = (el) => el.id ? `#${el.id}`
        : `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}"`;
    const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    for (const table of document.querySelectorAll('main table')) {
        if (!table.getClientRects().length) continue;
        const box = table.closest('.table-scroll');
        if (!box) {
            problems.push(`a table outside a .table-scroll: ${name(table.rows[0])}`);
            continue;
        }
        const label = box.getAttribute('aria-label');
        const say = (what) => problems.push(`${label}: ${what}`);
        if (box.getAttribute('tabindex') !== '0' || !label) say('not focusable or not named');
        const outer = box.getBoundingClientRect();
        if (outer.left < -0.5 || outer.right > width + 0.5)
            say(`its box spans ${outer.left}..${outer.right}`);
        // Whatever clips between the box and the page must let the box show whole.
        for (let el = box.parentElement; el && el !== document.body; el = el.parentElement) {
            const r = el.getBoundingClientRect();
            const clips = getComputedStyle(el).overflowX !== 'visible';
            if (clips && (outer.left < r.left - 0.5 || outer.right > r.right + 0.5))
                say(`cut off by ${name(el)}`);
        }
        box.scrollLeft = 0;
        const start = box.getBoundingClientRect().left + box.clientLeft;
        // Each cell lies within the box's scrollable content, or within the box itself when
        // the box does not scroll.
        const limit = scrolls(box) ? box.scrollWidth : box.clientWidth;
        for (const cell of table.querySelectorAll('th, td')) {
            const r = cell.getBoundingClientRect();
            if (!r.width) continue;
            const left = r.left - start, right = r.right - start;
            if (left < -0.5 || right > limit + 0.5)
                say(`cell ${name(cell)} at ${left}..${right} of ${limit}`);
        }
        for (const link of table.querySelectorAll('td > a, td > strong > a')) {
            if (link.getClientRects().length > 1) say(`the name ${name(link)} is broken`);
        }
        // Scrolled to its end, each row still shows its first cell at the box's left edge.
        if (box.scrollWidth > box.clientWidth + 1) {
            box.scrollLeft = box.scrollWidth;
            for (const row of table.rows) {
                const first = row.cells[0];
                if (!first || first.colSpan > 1 || !first.getClientRects().length) continue;
                const shift = first.getBoundingClientRect().left - start;
                if (Math.abs(shift) > 1.5) say(`first cell ${name(first)} scrolled away`);
            }
            box.scrollLeft = 0;
        }
    }
    return problems;
}"""


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.mark.parametrize("username", ["support", "alice"])
def test_every_table_reads_on_a_390px_screen(
    phone: Any, production_server: Server, username: str
) -> None:
    login(phone, production_server, username)
    found = {}
    for path in EVERY_PAGE[username]:
        phone.goto(production_server.url + path)
        phone.wait_for_load_state("load")
        problems = phone.evaluate(PROBLEMS)
        if problems:
            found[path] = problems
    assert not found, "\n".join(f"{path}: {p}" for path, ps in found.items() for p in ps)


def test_the_check_sees_a_table_cut_off_by_the_page(phone: Any, production_server: Server) -> None:
    """The check can fail: a wide table in a box that clips it, a table outside any box."""
    login(phone, production_server, "support")
    # A page without live panels, whose pushes could replace the table under the test.
    phone.goto(production_server.url + "/account/tokens/")
    assert phone.evaluate(PROBLEMS) == []
    phone.evaluate(
        """() => {
            const box = document.querySelector('.table-scroll');
            box.style.overflowX = 'hidden';
            box.querySelector('table').style.minWidth = '900px';
        }"""
    )
    problems = phone.evaluate(PROBLEMS)
    assert any(p.startswith("Your tokens table: cell") for p in problems), problems
    phone.evaluate("() => document.querySelector('.table-scroll').className = ''")
    problems = phone.evaluate(PROBLEMS)
    assert any("outside a .table-scroll" in p for p in problems), problems
