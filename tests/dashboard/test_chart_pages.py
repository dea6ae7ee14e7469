"""The pages' charts: a range picker in the URL that works without JavaScript, safe against any
value, on pages only their viewers may see; sparklines in the app and edge rows at a constant
number of queries; the edge's configuration status while reports arrive."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from edges.charts import edge_history_cache
from edges.models import ConnectionRollup, Edge
from tests.conftest import World, client_for
from tests.factories import make_app


def picker(page: str) -> dict[str, bool]:
    """Each range link of the page's chart, and whether it is marked current."""
    links = re.findall(r'<a href="\?range=(\w+)#[\w-]+"[^>]*?( aria-current="true")?>', page)
    return {key: bool(current) for key, current in links}


@pytest.mark.parametrize("url", ["/apps/acme-web/", "/edges/acme-ssl/", "/edges/gateway/"])
@pytest.mark.parametrize(("asked", "label"), [("6h", "Last 6 hours"), ("7d", "Last 7 days")])
def test_the_range_picker_is_links_with_the_current_range_marked(
    alice: User, url: str, asked: str, label: str
) -> None:
    page = client_for(alice).get(f"{url}?range={asked}").content.decode()
    assert picker(page) == {"1h": False, "6h": asked == "6h", "24h": False, "7d": asked == "7d"}
    assert f'aria-label="{label}: connections' in page
    # The panel refreshes itself in the range it shows.
    assert f'?range={asked}" hx-trigger="every 60s"' in page


@pytest.mark.parametrize(
    "query", ["", "?range=", "?range=1y", "?range=7D", "?range=%00", "?range=6h%0A", "?range[]=6h"]
)
@pytest.mark.parametrize("url", ["/apps/acme-web/", "/edges/gateway/"])
def test_a_range_the_page_does_not_know_shows_the_last_hour(
    alice: User, url: str, query: str
) -> None:
    response = client_for(alice).get(url + query)
    assert response.status_code == 200
    assert picker(response.content.decode())["1h"] is True


@pytest.mark.parametrize("url", ["/apps/acme-web/?range=6h", "/edges/acme-ssl/?range=7d"])
def test_another_organizations_chart_is_not_found(carol: User, url: str) -> None:
    assert client_for(carol).get(url).status_code == 404
    htmx = {"HX-Request": "true", "HX-Target": "app-charts" if "apps" in url else "edge-charts"}
    assert client_for(carol).get(url, headers=htmx).status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in(world: World) -> None:
    response = client_for(None).get("/edges/gateway/?range=7d")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(("url", "target"), [("/apps/acme-web/", "app-charts"),
                                             ("/edges/acme-ssl/", "edge-charts")])  # fmt: skip
def test_htmx_gets_the_chart_panel_alone_in_the_range_asked(
    alice: User, url: str, target: str
) -> None:
    headers = {"HX-Request": "true", "HX-Target": target}
    panel = client_for(alice).get(f"{url}?range=24h", headers=headers).content.decode()
    assert panel.lstrip().startswith(f'<section class="panel" id="{target}"')
    assert picker(panel)["24h"] is True and "Last 24 hours" in panel


def rollup(edge: Edge, app: Any, peak: int, minutes_ago: int = 10) -> ConnectionRollup:
    minute = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=minutes_ago)
    return ConnectionRollup.objects.create(
        edge=edge, app=app, minute=minute, max_connections=peak, sum_connections=peak, samples=1
    )


def test_a_gateways_history_shows_a_customer_only_their_apps(
    world: World, alice: User, support: User
) -> None:
    rollup(world.gateway, world.acme_web, 7)
    rollup(world.gateway, world.globex_store, 100)
    mine = client_for(alice).get("/edges/gateway/").content.decode()
    everyone = client_for(support).get("/edges/gateway/").content.decode()
    assert "Last hour: connections of your apps through gateway, peak 7 at" in mine
    assert "Last hour: connections through gateway, peak 107 at" in everyone
    assert "per minute, your apps;" in mine and "per minute, all apps;" in everyone


def test_app_and_edge_rows_carry_a_sparkline_labelled_with_the_last_hours_peak(
    world: World, alice: User, support: User
) -> None:
    rollup(world.gateway, world.acme_web, 42)
    rollup(world.gateway, world.globex_store, 8)
    staff = client_for(support).get("/").content.decode()
    row = staff.split('id="app-acme-web"')[1].split("</tr>")[0]
    assert 'aria-label="last hour: peak 42"' in row
    edge_row = staff.split('<tr id="edge-gateway"')[1].split("</tr>")[0]
    assert 'aria-label="last hour: peak 50"' in edge_row
    # A customer's gateway counts their own apps only.
    customer = client_for(alice).get("/").content.decode()
    item = customer.split('<li id="edge-gateway"')[1].split("</li>")[0]
    assert 'aria-label="last hour: peak 42"' in item
    organization = client_for(alice).get("/orgs/acme/").content.decode()
    assert 'aria-label="last hour: peak 42"' in organization.split('id="app-acme-web"')[1]
    edges = organization.split('id="org-edges"')[1].split("</section>")[0]
    assert 'id="edge-acme-ssl-spark" hx-preserve><svg class="spark"' in edges


@pytest.mark.parametrize("persona", ["support", "alice"])
@pytest.mark.parametrize("url", ["/", "/orgs/acme/"])
def test_sparklines_cost_the_same_queries_for_five_rows_or_sixty(
    request: pytest.FixtureRequest, world: World, persona: str, url: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(request.getfixturevalue(persona))

    def queries() -> int:
        edge_history_cache.forget()  # counted as the first view in a while pays them
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    client.get(url)  # the process's directories are read once
    few = queries()
    for n in range(57):
        app = make_app(f"busy-{n:02d}", org=world.acme)
        rollup(world.gateway, app, n)
        rollup(world.acme_ssl, app, n, minutes_ago=20)
    client.get(url)
    assert queries() == few


def test_the_edge_does_not_say_no_agent_reported_while_reports_arrive(
    world: World, support: User
) -> None:
    page = client_for(support).get("/edges/acme-ssl/").content.decode()
    assert "no agent has reported yet" in page
    Edge.objects.filter(pk=world.acme_ssl.pk).update(last_report_at=timezone.now())
    page = client_for(support).get("/edges/acme-ssl/").content.decode()
    assert "no agent has reported yet" not in page
    assert 'id="edge-config-unconfirmed">not confirmed</span>' in page


def test_supports_legacy_edges_carry_a_sparkline(world: World, support: User) -> None:
    rollup(world.acme_ssl, world.acme_web, 12)
    page = client_for(support).get("/support/").content.decode()
    edges = page.split('id="legacy-edges"')[1].split("</section>")[0]
    assert 'id="edge-acme-ssl-spark" hx-preserve><svg class="spark"' in edges
    assert 'aria-label="last hour: peak 12"' in edges
