"""A person sorts a table by clicking its header, pages through it, and searches within the
sorted list: the order, the header's aria-sort and the pager follow, without losing the rest."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, login

pytestmark = pytest.mark.e2e

EN_DASH = "\N{EN DASH}"
BULK = 60
MAKE_APPS = f"""
import datetime as dt
from dashboard.models import App, Organization
acme = Organization.objects.get(name="acme")
now = dt.datetime.now(dt.UTC)
App.objects.bulk_create(
    App(name=f"zz-bulk-{{n:02d}}", organization=acme, created_at=now) for n in range({BULK})
)
"""


def app_rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#results tbody tr[id^=app-]", "rows => rows.map(row => row.id.slice(4))"
    )


def test_clicking_a_header_sorts_the_apps_and_paging_keeps_the_sort(
    page: Any, dashboard_server: Server
) -> None:
    dashboard_server.manage("shell", "-c", MAKE_APPS)
    login(page, dashboard_server, "support")
    app_header = page.locator("#results th", has_text="App").first
    assert app_header.get_attribute("aria-sort") == "ascending"
    first_rows = app_rows(page)
    assert first_rows == sorted(first_rows) and len(first_rows) == 50
    pager = page.locator("#results .pager-summary")
    total = pager.inner_text().split(" of ")[1]
    assert pager.inner_text().startswith(f"1{EN_DASH}50 of ")

    app_header.get_by_role("link").click()
    page.wait_for_url("**/?sort=-name")
    assert page.locator("#results th", has_text="App").first.get_attribute("aria-sort") == (
        "descending"
    )
    descending = app_rows(page)
    assert descending[:3] == ["zz-bulk-59", "zz-bulk-58", "zz-bulk-57"]
    assert "▼" in page.locator("#results th[aria-sort]").inner_text()

    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**/?sort=-name&page=2")
    assert pager.inner_text().startswith(f"51{EN_DASH}")
    assert pager.inner_text().endswith(f" of {total}")
    second = app_rows(page)
    assert second and not set(second) & set(descending)
    assert second == sorted(second, reverse=True)
    assert page.locator("#results th[aria-sort=descending]").count() == 1

    # Searching (htmx, as it is typed) keeps the sort the person chose.
    page.fill("input[name=q]", "zz-bulk-0")
    page.wait_for_function("() => document.querySelectorAll('#results tbody tr').length === 10")
    assert app_rows(page) == [f"zz-bulk-0{n}" for n in range(9, -1, -1)]
    assert "sort=-name" in page.url and "q=zz-bulk-0" in page.url


def test_the_audit_pages_export_link_downloads_its_filtered_events_over_daphne(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "alice")
    page.goto(dashboard_server.url + "/audit/?action=app.create")
    link = page.locator("#audit-export")
    assert link.get_attribute("href") == "/audit/export.csv?action=app.create"
    response = page.request.get(dashboard_server.url + link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    lines = response.text().splitlines()
    assert lines[0].startswith("time (UTC),actor,source,action,")
    assert len(lines) > 1
    assert all(",app.create," in line for line in lines[1:])
    assert not any("globex" in line for line in lines)
