"""The overview costs a constant number of queries however many apps and domains exist."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from dashboard.models import App, Domain
from tests.conftest import World, client_for


@pytest.fixture
def crowded(world: World) -> None:
    """Hundreds of apps, each with a default and two custom domains."""
    apps = App.objects.bulk_create(
        App(
            name=f"bulk-{n:04d}",
            organization=world.acme if n % 3 else world.globex,
            created_at=world.acme_web.created_at,
        )
        for n in range(300)
    )
    Domain.objects.bulk_create(
        Domain(app=app, hostname=f"{app.name}{suffix}", kind=kind, edge=world.gateway)
        for app in apps
        for suffix, kind in (
            (".example.net", "default"),
            (".example.org", "custom"),
            (".example.com", "custom"),
        )
    )


@pytest.mark.parametrize("persona", ["support", "alice"])
@pytest.mark.parametrize(
    "query", ["", "?page=3", "?q=bulk-01", "?sort=-domains", "?sort=organization&page=2"]
)
def test_overview_queries_stay_constant(
    request: pytest.FixtureRequest,
    crowded: None,
    django_assert_max_num_queries: Any,
    persona: str,
    query: str,
) -> None:
    user: User = request.getfixturevalue(persona)
    client = client_for(user)
    # Support: the matching apps counted, for the pager's "51-100 of 300", the page's rows, the
    # organizations, the edge directory (cold in a test) and the sparklines of every row shown.
    # A customer: all their apps in one query (the page, its count and their live numbers),
    # their organizations, their edges and the sparklines. The user and the theme besides.
    with django_assert_max_num_queries(7 if persona == "support" else 6):
        response = client.get("/" + query)
    assert response.status_code == 200
    assert 'id="app-bulk-' in response.content.decode()
