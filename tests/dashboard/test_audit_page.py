"""The audit page shows each event's before and after, and exports what it lists as CSV: the
same filters and sort, the same visibility (a customer reads only their organizations' events
and never support's internal reasons), every page of it, and cells a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from dashboard.models import AuditEvent, Feature
from dashboard.services.features import feature_set
from pages.views.audit import csv_cell
from tests.conftest import World, client_for

INTERNAL = "ticket 4821: customer is on the legacy plan"
SHARED = "enabled after your request in ticket 77"


def export(user: User, **params: str) -> list[list[str]]:
    response = client_for(user).get(reverse("audit-export"), params)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def switched(world: World, support: User, alice: User) -> None:
    """Support switches two features of acme's apps, one with an internal and one with a shared
    reason; alice switches one herself."""
    websockets = Feature.objects.get(name="websockets")
    feature_set(
        app=world.acme_api,
        feature=websockets,
        enabled=False,
        actor=support,
        source="web",
        reason=INTERNAL,
    )
    feature_set(
        app=world.acme_api,
        feature=websockets,
        enabled=True,
        actor=support,
        source="web",
        reason=SHARED,
        reason_shared=True,
    )
    feature_set(app=world.acme_api, feature=websockets, enabled=False, actor=alice, source="web")


def test_each_event_shows_what_changed_before_and_after(alice: User, switched: None) -> None:
    page = client_for(alice).get(reverse("audit"), {"actor": "alice"}).content.decode()
    row = page.split('<tr id="audit-')[1].split("</tr>")[0]
    changes = row.split('class="audit-changes"')[1].split("</td>")[0]
    assert '<span class="field">enabled</span>' in changes
    assert '<span class="visually-hidden">before: </span>on</span>' in changes
    assert '<span class="visually-hidden">after: </span>off</span>' in changes
    # The feature's name did not change, so it is not listed as a change.
    assert "feature" not in changes


def test_a_creation_lists_what_was_set(support: User, world: World) -> None:
    page = client_for(support).get(reverse("audit"), {"action": "app.create"}).content.decode()
    row = page.split('<tr id="audit-')[1].split("</tr>")[0]
    changes = row.split('class="audit-changes"')[1].split("</td>")[0]
    assert "before: " not in changes and "after: " in changes
    assert '<span class="field">name</span>' in changes


def test_the_export_lists_the_filtered_events_with_before_and_after(
    support: User, switched: None
) -> None:
    rows = export(support, app="acme-api", action="feature.disable")
    assert rows[0][:4] == ["time (UTC)", "actor", "source", "action"]
    assert [row[1] for row in rows[1:]] == ["alice", "support"]  # newest first, as the page
    alice_row = dict(zip(rows[0], rows[1], strict=True))
    assert alice_row["before"] == '{"enabled": true, "feature": "websockets"}'
    assert alice_row["after"] == '{"enabled": false, "feature": "websockets"}'
    assert alice_row["what"] == "disabled websockets on acme-api"
    assert alice_row["organization"] == "acme" and alice_row["app"] == "acme-api"


def test_the_export_keeps_the_pages_sort(support: User, switched: None) -> None:
    rows = export(support, app="acme-api", sort="who")
    actors = [row[1] for row in rows[1:]]
    assert actors == sorted(actors) and actors[0] == "alice"


def test_support_reads_every_reason_in_the_export(support: User, switched: None) -> None:
    reasons = [row[-1] for row in export(support, app="acme-api")[1:]]
    assert INTERNAL in reasons and SHARED in reasons


def test_a_customer_never_reads_supports_internal_reasons_in_the_export(
    alice: User, switched: None
) -> None:
    rows = export(alice)
    body = "\n".join(",".join(row) for row in rows)
    assert INTERNAL not in body
    assert SHARED in body
    assert any(row[1] == "support" and row[3] == "feature.disable" for row in rows)


def test_a_customer_exports_only_their_organizations_events(
    alice: User, carol: User, switched: None
) -> None:
    rows = export(alice)
    assert {row[7] for row in rows[1:]} == {"acme"}
    assert len(export(alice, organization="globex")) == 1  # the header alone
    assert "globex" not in "".join(",".join(row) for row in export(alice))


def test_the_export_needs_a_login(world: World) -> None:
    response = client_for(None).get(reverse("audit-export"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_export_streams_every_page(
    support: User, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pages.views.audit.EXPORT_BATCH", 7)
    for index in range(60):
        AuditEvent.objects.create(
            actor_label="bulk", source="cli", action="app.create", target_label=f"t{index:02d}"
        )
    rows = export(support, actor="bulk", sort="-when")
    assert len(rows) == 61
    assert len({row[6] for row in rows[1:]}) == 60


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_cells_that_a_spreadsheet_would_run_are_quoted(
    support: User, world: World, hostile: str
) -> None:
    AuditEvent.objects.create(
        actor_label=hostile,
        source="cli",
        action="test.hostile",
        target_label=hostile,
        organization=world.acme,
        reason=hostile,
        reason_shared=True,
    )
    rows = export(support, action="test.hostile")
    row = dict(zip(rows[0], rows[1], strict=True))
    for column in ("actor", "target", "reason"):
        assert row[column] == "'" + hostile, column


def test_plain_cells_are_left_alone() -> None:
    assert csv_cell("acme-web") == "acme-web"
    assert csv_cell("a=b") == "a=b"
    assert csv_cell(None) == ""
    assert csv_cell("=1") == "'=1"


def test_the_pages_export_link_keeps_its_filters_and_sort(support: User, switched: None) -> None:
    page = client_for(support).get(
        reverse("audit"), {"app": "acme-api", "actor": "", "sort": "who", "page": "1"}
    )
    link = page.content.decode().split('id="audit-export" href="')[1].split('"')[0]
    assert link == "/audit/export.csv?app=acme-api&amp;sort=who"


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_streams_in_batches(
    async_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asgiref.sync import sync_to_async

    from tests.factories import make_user

    monkeypatch.setattr("pages.views.audit.EXPORT_BATCH", 4)
    support = await sync_to_async(make_user)("support", staff=True)
    for index in range(10):
        await AuditEvent.objects.acreate(
            actor_label="bulk", source="cli", action="app.create", target_label=f"t{index}"
        )
    await async_client.aforce_login(support)
    response = await async_client.get(reverse("audit-export"), {"actor": "bulk"})
    assert response.status_code == 200 and response.is_async
    chunks = [chunk async for chunk in response.streaming_content]
    assert len(chunks) == 1 + 3  # the header, then batches of 4, 4 and 2 rows
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert [row[6] for row in rows[1:]] == [f"t{index}" for index in reversed(range(10))]
