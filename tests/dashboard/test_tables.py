"""Every table of the pages sorts by its columns on the server, from the URL, and long ones come
a page at a time: sorting keeps the filters, filtering keeps the sort, paging keeps both, and a
garbled parameter gives the default page, never an error."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict
from django.urls import reverse

from dashboard.models import App, AuditEvent, Domain
from edges.services.upgrades import upgrade_request
from pages.tables import TABLES
from tests.conftest import World, client_for
from tests.factories import (
    POST_GA,
    PRE_GA,
    make_app,
    make_edge,
    make_org,
    make_ssl_edge,
    make_user,
)

EN_DASH = "\N{EN DASH}"


def ids(html: str, prefix: str) -> list[str]:
    """The rows of a page in the order they are drawn, by their ids' `prefix-<name>`."""
    return re.findall(rf'<tr id="{prefix}-([\w.-]+)"', html)


def header(html: str, label: str) -> str:
    """The `<th>` whose link reads `label`."""
    match = re.search(
        rf'<th scope="col"[^>]*><a class="sort[^"]*" href="[^"]*"[^>]*>{label}<', html
    )
    assert match, f"no sortable header {label!r}"
    start = match.start()
    return html[start : html.index("</th>", start)]


def queued_edges(html: str) -> list[str]:
    """The edges of the upgrade queue's rows, in order."""
    return re.findall(r'<tr id="upgrade-\d+"[^>]*><td>\d+</td><td><a [^>]*><strong>([\w-]+)<', html)


def href(th: str) -> str:
    return re.search(r'href="([^"]*)"', th).group(1).replace("&amp;", "&")  # type: ignore[union-attr]


@pytest.fixture
def many_apps(world: World) -> None:
    """120 more apps of acme: names in one order, creation dates and domain counts in others."""
    apps = App.objects.bulk_create(
        App(name=f"bulk-{n:03d}", organization=world.acme, created_at=POST_GA) for n in range(120)
    )
    Domain.objects.bulk_create(
        Domain(app=app, hostname=f"d{k}.{app.name}.example.org", kind="custom", edge=world.gateway)
        for app in apps[:3]
        for k in range(3 + apps.index(app))
    )


def test_the_overview_sorts_apps_by_the_column_the_url_names(support: User, world: World) -> None:
    client = client_for(support)
    by_name = ids(client.get("/").content.decode(), "app")
    assert by_name == sorted(by_name)
    backwards = ids(client.get("/", {"sort": "-name"}).content.decode(), "app")
    assert backwards == sorted(by_name, reverse=True)
    newest = ids(client.get("/", {"sort": "-created"}).content.decode(), "app")
    assert newest[0] == "acme-api"  # the only app created after GA
    by_org = ids(client.get("/", {"sort": "-organization"}).content.decode(), "app")
    assert by_org[0] == "globex-store" and by_org[-1].startswith("acme-")


def test_the_sorted_header_says_so_and_links_to_the_other_direction(
    support: User, world: World
) -> None:
    page = client_for(support).get("/", {"sort": "name"}).content.decode()
    name = header(page, "App")
    assert 'aria-sort="ascending"' in name and "▲" in name
    assert href(name) == "?sort=-name"
    created = header(page, "Created")
    assert "aria-sort" not in created
    assert href(created) == "?sort=-created"  # newest first on the first click
    flipped = client_for(support).get("/", {"sort": "-name"}).content.decode()
    assert 'aria-sort="descending"' in header(flipped, "App") and "▼" in header(flipped, "App")
    assert page.split('id="results"')[1].count("aria-sort=") == 1  # the apps table's


def test_the_websockets_column_is_not_sortable(support: User, world: World) -> None:
    page = client_for(support).get("/", {"sort": "websockets"}).content.decode()
    assert '<th scope="col">WebSockets</th>' in page
    assert ids(page, "app") == sorted(ids(page, "app"))


def test_sorting_by_domains_puts_the_app_with_most_first(
    support: User, many_apps: None, world: World
) -> None:
    page = client_for(support).get("/", {"sort": "-domains"}).content.decode()
    assert ids(page, "app")[:3] == ["bulk-002", "bulk-001", "bulk-000"]


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "password"},
        {"sort": "organization__memberships__user__password"},
        {"sort": "-"},
        {"sort": "--name"},
        {"sort": "name;drop"},
        {"sort": "\x00"},
        {"page": "abc"},
        {"page": "-1"},
        {"page": "0"},
        {"page": "99999999999999999999"},
        {"page": "1e3"},
        {"page": "2", "sort": ["name", "-name"]},
    ],
)
def test_a_garbled_sort_or_page_gives_a_page_never_an_error(
    support: User, many_apps: None, query: dict[str, str]
) -> None:
    for url in ("/", "/orgs/acme/", reverse("audit"), reverse("upgrade-queue"), "/edges/gateway/"):
        response = client_for(support).get(url, query)
        assert response.status_code == 200, (url, query)


def test_an_unknown_sort_falls_back_to_the_default_order(support: User, world: World) -> None:
    page = client_for(support).get("/", {"sort": "password"}).content.decode()
    assert ids(page, "app") == sorted(ids(page, "app"))
    assert 'aria-sort="ascending"' in header(page, "App")


def test_user_input_never_reaches_order_by() -> None:
    for table in TABLES.values():
        allowed = {
            name.lstrip("-") for column in table.columns.values() for name in column.fields
        } | {table.tiebreak}
        for raw in ("x", "-x", "__class__", "name__password", "-created_at", "pk", "?"):
            order = table.sorting(QueryDict(f"sort={raw}")).order_by
            assert {name.lstrip("-") for name in order} <= allowed


def test_the_overview_pages_its_apps_and_says_where_the_page_is(
    support: User, many_apps: None
) -> None:
    client = client_for(support)
    first = client.get("/").content.decode()
    total = App.objects.count()
    assert len(ids(first, "app")) == 50
    assert f"1{EN_DASH}50 of {total} apps" in first
    assert 'href="?page=2"' in first and "Previous" not in first
    second = client.get("/", {"page": "2"}).content.decode()
    assert f"51{EN_DASH}100 of {total} apps" in second
    assert not set(ids(first, "app")) & set(ids(second, "app"))
    last = client.get("/", {"page": "999"}).content.decode()
    assert f"101{EN_DASH}{total} of {total} apps" in last


def test_paging_keeps_the_search_and_the_sort(support: User, many_apps: None) -> None:
    page = client_for(support).get("/", {"q": "bulk", "sort": "-name"}).content.decode()
    assert ids(page, "app")[0] == "bulk-119"
    assert 'href="?q=bulk&amp;sort=-name&amp;page=2"' in page
    second = client_for(support).get("/", {"q": "bulk", "sort": "-name", "page": "2"})
    assert ids(second.content.decode(), "app")[0] == "bulk-069"


def test_sorting_keeps_the_search_and_starts_again_at_the_first_page(
    support: User, many_apps: None
) -> None:
    page = client_for(support).get("/", {"q": "bulk", "page": "2"}).content.decode()
    assert href(header(page, "App")) == "?q=bulk&sort=-name"


def test_searching_keeps_the_sort(support: User, world: World) -> None:
    page = client_for(support).get("/", {"sort": "-name"}).content.decode()
    form = page.split('<form class="search"')[1].split("</form>")[0]
    assert '<input type="hidden" name="sort" value="-name">' in form
    assert 'hx-include="closest form"' in form
    default = client_for(support).get("/").content.decode()
    assert 'name="sort"' not in default.split('<form class="search"')[1].split("</form>")[0]


def test_a_customer_pages_only_through_their_own_apps(
    alice: User, carol: User, many_apps: None
) -> None:
    page = client_for(carol).get("/", {"sort": "-name", "page": "2"}).content.decode()
    assert ids(page, "app") == ["globex-store"]
    assert f"1{EN_DASH}1 of 1 apps" in page
    own = client_for(alice).get("/").content.decode()
    assert f"of {App.objects.filter(organization__name='acme').count()} apps" in own


def test_an_organizations_apps_sort_and_page(alice: User, carol: User, many_apps: None) -> None:
    page = client_for(alice).get("/orgs/acme/", {"sort": "-name"}).content.decode()
    rows = ids(page, "app")
    assert len(rows) == 50 and rows[0] == "bulk-119"
    assert 'href="?sort=-name&amp;page=2"' in page
    assert client_for(carol).get("/orgs/acme/", {"sort": "-name"}).status_code == 404


def test_support_results_sort_by_organization(support: User, world: World) -> None:
    page = client_for(support).get(reverse("support"), {"q": "e", "sort": "-organization"})
    rows = ids(page.content.decode(), "support-app")
    assert rows[0] == "globex-store" and "acme-web" in rows


def test_the_audit_trail_sorts_keeps_its_filters_and_pages(support: User, world: World) -> None:
    for index in range(60):
        AuditEvent.objects.create(
            actor_label=f"zz-{index:02d}", source="cli", action="app.create", target_label="t"
        )
    client = client_for(support)
    page = client.get(reverse("audit"), {"action": "app.create", "sort": "-who"}).content.decode()
    assert f"1{EN_DASH}50 of" in page
    first = page.split('<tr id="audit-')[1]
    assert "zz-59" in first.split("</tr>")[0]
    who = header(page, "Who")
    assert 'aria-sort="descending"' in who
    assert href(who) == "?action=app.create&sort=who"
    assert href(header(page, "When")) == "?action=app.create&sort=-when"
    assert 'href="?action=app.create&amp;sort=-who&amp;page=2"' in page
    form = page.split('<form class="filters"')[1].split("</form>")[0]
    assert '<input type="hidden" name="sort" value="-who">' in form


def test_the_upgrade_queue_sorts_and_is_live_only_in_its_default_order(
    support: User, alice: User, carol: User, world: World
) -> None:
    beta = make_org("beta")
    for name, org in (("zeta-ssl", beta), ("beta-ssl", beta)):
        make_ssl_edge(name, org=org)
    for edge in ("acme-ssl", "zeta-ssl", "beta-ssl"):
        upgrade_request(
            edge=type(world.acme_ssl).objects.get(name=edge), actor=support, source="web"
        )
    client = client_for(support)
    default = client.get(reverse("upgrade-queue")).content.decode()
    assert 'ws-connect="/ws/live/upgrades/"' in default
    order = queued_edges(default)
    assert order == ["acme-ssl", "zeta-ssl", "beta-ssl"]  # oldest request first
    by_edge = client.get(reverse("upgrade-queue"), {"sort": "-edge"}).content.decode()
    order = queued_edges(by_edge)
    assert order == ["zeta-ssl", "beta-ssl", "acme-ssl"]
    assert "ws-connect" not in by_edge and 'id="queue-not-live"' in by_edge
    assert client_for(alice).get(reverse("upgrade-queue"), {"sort": "-edge"}).status_code == 404


def test_an_edges_domains_sort_and_a_customer_sees_only_theirs(
    support: User, alice: User, carol: User, world: World
) -> None:
    page = client_for(support).get("/edges/gateway/", {"sort": "-hostname"}).content.decode()
    rows = ids(page, "domain")
    assert rows == sorted(rows, reverse=True) and len(rows) > 2
    mine = client_for(carol).get("/edges/gateway/", {"sort": "hostname"}).content.decode()
    assert ids(mine, "domain") and all("globex" in row for row in ids(mine, "domain"))
    hidden = make_edge("hidden-ssl", kind="custom_ssl", org=world.acme)
    assert client_for(carol).get(f"/edges/{hidden.name}/", {"sort": "hostname"}).status_code == 404


def test_tokens_sort_by_label(alice: User, bob: User) -> None:
    client = client_for(alice)
    for label in ("beta", "alpha", "gamma"):
        client.post(reverse("tokens"), {"label": label})
    client_for(bob).post(reverse("tokens"), {"label": "bobs"})
    page = client.get(reverse("tokens"), {"sort": "label"}).content.decode()
    labels = re.findall(r"<td>(alpha|beta|gamma|bobs)</td>", page)
    assert labels == ["alpha", "beta", "gamma"]
    newest = client.get(reverse("tokens")).content.decode()
    assert re.findall(r"<td>(alpha|beta|gamma)</td>", newest) == ["gamma", "alpha", "beta"]


def test_the_default_app_order_is_the_same_for_pre_and_post_ga_apps(
    support: User, world: World
) -> None:
    make_app("aaa-old", org=world.acme, created_at=PRE_GA)
    assert ids(client_for(support).get("/").content.decode(), "app")[0] == "aaa-old"


@pytest.mark.parametrize("sort", ["-domains", "organization", "-created"])
def test_support_pages_hold_every_app_once_in_the_order_of_the_column(
    support: User, many_apps: None, sort: str
) -> None:
    client = client_for(support)
    pages = [
        ids(client.get("/", {"sort": sort, "page": n}).content.decode(), "app") for n in (1, 2, 3)
    ]
    shown = [name for page in pages for name in page]
    order = TABLES["apps"].sorting(QueryDict(f"sort={sort}")).order_by
    expected = App.objects.annotate(domain_count=Domain.objects.count_per("app")).order_by(*order)
    assert shown == list(expected.values_list("name", flat=True))


def test_a_customers_search_counts_and_pages_only_their_matching_apps(
    alice: User, many_apps: None
) -> None:
    client = client_for(alice)
    first = client.get("/", {"q": "bulk", "sort": "-name"}).content.decode()
    assert ids(first, "app")[0] == "bulk-119"
    assert f"1{EN_DASH}50 of 120 apps" in first
    # The live numbers still list every app of the organization, found or not.
    assert 'id="app-acme-web-connections"' in first
    last = client.get("/", {"q": "bulk", "sort": "-name", "page": "3"}).content.decode()
    assert ids(last, "app")[-1] == "bulk-000"
    assert f"101{EN_DASH}120 of 120 apps" in last
    nothing = client.get("/", {"q": "globex"}).content.decode()
    assert ids(nothing, "app") == [] and "No app matches" in nothing


def test_a_customers_edges_count_only_their_own_domains(
    alice: User, many_apps: None, world: World
) -> None:
    page = client_for(alice).get("/").content.decode()
    edge = page.split('<li id="edge-gateway">')[1].split("</li>")[0]
    theirs = Domain.objects.filter(edge=world.gateway, app__organization=world.acme).count()
    assert theirs < Domain.objects.filter(edge=world.gateway).count()
    assert f"· {theirs} domains" in edge


def test_a_customer_with_an_empty_organization_still_sees_it_and_the_shared_gateways(
    world: World,
) -> None:
    dave = make_user("dave", org=make_org("initech"))
    page = client_for(dave).get("/").content.decode()
    assert ids(page, "app") == [] and "No apps yet." in page
    assert 'id="org-initech-live"' in page
    edge = page.split('<li id="edge-gateway">')[1].split("</li>")[0]
    assert "· 0 domains" in edge
    assert "acme" not in page and "globex" not in page
