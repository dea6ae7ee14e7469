"""Panels of numbers computed without their templates (live.renderers) say what the templates
would: their cells are the whole render's cells, and two renders of one shape differ in their
cells alone, so a page that swaps the cells that changed holds what a reload would show."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from edges.api.ingest_payloads import parse_report
from edges.models import Edge
from edges.services.reports import report_apply
from live import events
from live.cells import CELL, Numbers, changed_cells, count_cell, time_cell, with_cells
from live.topics import authorize
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

WATCHED = [
    ("apps", "acme-web"),
    ("apps", "acme-api"),
    ("edges", "gateway"),
    ("edges", "acme-ssl"),
    ("overview", ""),
    ("orgs", "acme"),
]


def frontend(hostname: str, connections: int, **extra: Any) -> dict[str, Any]:
    return {"hostname": hostname, "connections": connections, **extra}


class Platform:
    def __init__(self) -> None:
        self.seq = 0

    def report(self, edge: str, *frontends: dict[str, Any]) -> None:
        self.seq += 1
        body = {"edge": edge, "seq": self.seq, "sent_at": "2026-11-21T10:00:00Z"}
        payload = json.dumps({**body, "frontends": list(frontends)}).encode()
        report_apply(
            edge=Edge.objects.get(name=edge), report=parse_report(payload, "application/json")
        )


def numbers_of(users: list[User]) -> dict[tuple[str, str, str], Numbers]:
    """Every watched view's numbers, as each user's sockets would get them."""
    found = {}
    for user in users:
        for kind, name in WATCHED:
            topic = authorize(user, kind, name)
            if topic is None:
                continue
            fragment = topic.render(frozenset({events.COUNTS}))[events.COUNTS]
            assert isinstance(fragment, Numbers), f"{kind} renders its numbers as a whole"
            found[(user.username, kind, name)] = fragment
    return found


def cells_in(html: str) -> dict[str, str]:
    return {match["id"]: match[0] for match in CELL.finditer(html)}


def moments(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A day of the platform, step by step: numbers moving, rows coming and going, back-ends
    dying, edges going silent and coming back."""
    web = "acme-web.example.net"
    platform.report("gateway", frontend(web, 8))
    yield "first report"
    platform.report("gateway", frontend(web, 9, websockets=2))
    yield "numbers move"
    platform.report("gateway", frontend(web, 1_234_567, websockets=3))
    yield "numbers grow digits"
    platform.report("acme-ssl", frontend("www.acme.example", 4))
    yield "a second edge reports"
    platform.report("gateway", frontend(web, 10), frontend("acme-api.example.net", 5))
    yield "another app's hostname"
    backends = [{"address": "10.0.0.1:80", "connections": 3, "state": "up"}]
    platform.report("gateway", frontend(web, 11, backends=backends))
    yield "a back-end"
    backends = [{"address": "10.0.0.1:80", "connections": 7, "state": "up"}]
    platform.report("gateway", frontend(web, 12, backends=backends))
    yield "the back-end's number moves"
    backends = [{"address": "10.0.0.1:80", "connections": 0, "state": "dead"}]
    platform.report("gateway", frontend(web, 12, backends=backends))
    yield "the back-end dies"
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    monkeypatch.setattr("edges.counts.stale_cutoff", lambda: future)
    yield "every edge silent"
    monkeypatch.undo()
    platform.report("gateway", frontend(web, 13))
    yield "back again"
    platform.report("gateway")
    yield "no traffic"


def test_numbers_of_one_shape_differ_only_in_their_cells_which_are_the_templates(
    world: World, alice: User, support: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    before: dict[tuple[str, str, str], tuple[Numbers, str]] = {}
    same_shape = new_shape = 0
    for step in moments(Platform(), monkeypatch):
        for view, numbers in numbers_of([alice, support]).items():
            html = numbers.whole()
            assert numbers.cells == cells_in(html), f"{view} at {step}: cells are not the page's"
            if view in before:
                last, last_html = before[view]
                if last.shape == numbers.shape:
                    same_shape += 1
                    # The page holds the last whole render with every cell sent since.
                    assert with_cells(last_html, numbers.cells) == html, f"{view} at {step}"
                    assert changed_cells(last_html, html) is not None
                else:
                    new_shape += 1
            before[view] = (numbers, html)
    # The walk went through both kinds of update, for every kind of view.
    assert same_shape > 10 and new_shape > 10


def test_cells_are_written_as_the_templates_write_numbers_and_moments() -> None:
    assert count_cell("app-a-connections", 1234567) == (
        '<span id="app-a-connections" data-count="1234567">1,234,567</span>'
    )
    when = dt.datetime(2026, 11, 30, 15, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert time_cell(when, "since", "t") == (
        '<time id="t" datetime="2026-11-30T14:05:09Z" data-local="since" '
        'title="2026-11-30 14:05:09 UTC">14:05:09 UTC</time>'
    )
    assert 'id="a&quot;b"' in count_cell('a"b', 1)
