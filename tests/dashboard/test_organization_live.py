"""An organization's live block (on its page, and on a customer's overview) totals every app of
the organization and lists only its busiest: an organization of thousands of apps does not send
thousands of rows with every report. Its updates are rendered from memory."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.models import App
from edges.api.ingest_payloads import parse_report
from edges.services.reports import report_apply
from live.renderers import organization_live_numbers
from tests.conftest import World, client_for
from tests.factories import make_app

pytestmark = pytest.mark.django_db


def report(world: World, counts: dict[str, int], seq: int = 1) -> None:
    """The shared gateway reports these connections per app (on its default hostname)."""
    frontends = [
        {"hostname": App.objects.get(name=name).default_hostname, "connections": n}
        for name, n in counts.items()
    ]
    sent_at = "2026-11-21T10:00:00Z"
    body = {"edge": "gateway", "seq": seq, "sent_at": sent_at, "frontends": frontends}
    report_apply(
        edge=world.gateway, report=parse_report(json.dumps(body).encode(), "application/json")
    )


def block(page: str, organization: str) -> str:
    start = page.index(f'id="org-{organization}-live"')
    return page[start : page.index("</section>", start)]


def shown(live_block: str) -> list[str]:
    """The apps listed in the block, in order."""
    return re.findall(r'<a href="/apps/([a-z0-9-]+)/">', live_block)


def number(live_block: str, element: str) -> int:
    found = re.search(rf'id="{element}"[^>]*>([\d,]+)<', live_block)
    assert found, f"no number {element} in the block"
    return int(found.group(1).replace(",", ""))


@pytest.fixture
def busy_acme(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """acme with five apps (two of them silent); the block lists the busiest two."""
    monkeypatch.setattr("edges.counts.ORG_LIVE_APPS", 2)
    for name in ("acme-docs", "acme-jobs", "acme-mail"):
        make_app(name, org=world.acme)
    report(world, {"acme-api": 40, "acme-docs": 300, "acme-jobs": 300})
    return world


def test_the_organization_page_totals_every_app_and_lists_the_busiest(
    busy_acme: World, alice: User
) -> None:
    page = client_for(alice).get("/orgs/acme/").content.decode()
    live = block(page, "acme")
    assert shown(live) == ["acme-docs", "acme-jobs"]  # a tie goes by name
    assert number(live, "org-acme-connections") == 640
    assert number(live, "org-acme-more-apps-count") == 3
    assert "The 2 busiest shown;" in live and "more apps in the totals above." in live


def test_a_customers_overview_shows_the_same_block(busy_acme: World, bob: User) -> None:
    live = block(client_for(bob).get("/").content.decode(), "acme")
    assert shown(live) == ["acme-docs", "acme-jobs"]
    assert number(live, "org-acme-connections") == 640


def test_a_small_organization_lists_every_app_with_no_more_line(world: World, alice: User) -> None:
    report(world, {"acme-api": 5})
    live = block(client_for(alice).get("/orgs/acme/").content.decode(), "acme")
    assert shown(live) == ["acme-api", "acme-web"]
    assert "more app" not in live
    assert number(live, "org-acme-connections") == 5


def test_an_update_of_the_block_is_rendered_from_memory(busy_acme: World) -> None:
    organization_live_numbers(busy_acme.acme)  # the view's first render reads the apps
    report(busy_acme, {"acme-api": 900, "acme-docs": 300, "acme-jobs": 300}, seq=2)

    with CaptureQueriesContext(connection) as queries:
        numbers = organization_live_numbers(busy_acme.acme)

    assert len(queries) == 0, [q["sql"] for q in queries]
    assert numbers.shape[2] == ("acme-api", "acme-docs")  # a new busiest: a new shape
    assert 'data-count="1500"' in numbers.cells["org-acme-connections"]
