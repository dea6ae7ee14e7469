"""Every page route, the admin site's included, refuses a POST without the CSRF token before any
view runs. None is exempt: the edges' ingest endpoints, which take a bearer token and no cookie,
live in the machine clients' URL conf only. Routes are read from the URL conf, so a new one is
covered (or fails) by itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dashboard.models import AuditEvent
from edgeboard.middleware import API_URLCONF

# Exempt by design: an edge agent authenticates with its ingest token, never a session.
EXEMPT_PREFIXES = ("ingest/v1/",)
# Sample values for each converter; the CSRF check runs before the view looks anything up.
SAMPLES = {"slug": "acme-web", "int": "1", "str": "acme-web", "path": "acme-web", "uuid": ""}


def page_routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path with sample values, view) for every route of the pages' URL conf."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from page_routes(entry.url_patterns, prefix + _fill(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + _fill(entry.pattern), entry.callback


def _fill(pattern: Any) -> str:
    text = str(pattern).lstrip("^").rstrip("$")
    converters = getattr(pattern, "converters", {})
    for name, converter in converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        sample = SAMPLES.get(kind, "acme-web")
        if kind == "uuid":
            sample = "00000000-0000-0000-0000-000000000000"
        text = text.replace(f"<{kind}:{name}>", sample).replace(f"<{name}>", sample)
    # Regex routes of the admin site: give them a plain sample where a group stands.
    if "(?P<" in text:
        return ""
    return text.replace("\\", "")


ROUTES = sorted({path for path, _ in page_routes()})


def test_the_sweep_reaches_the_pages_and_the_admin_site() -> None:
    assert "apps/acme-web/features/" in ROUTES
    assert "account/tokens/1/revoke/" in ROUTES
    assert any(path.startswith("admin/") for path in ROUTES)
    assert len(ROUTES) > 40


def test_no_page_route_is_exempt_from_csrf() -> None:
    exempt = sorted(
        path for path, view in page_routes() if getattr(view, "csrf_exempt", False) and path
    )
    assert exempt == [], exempt


def test_the_ingest_endpoints_are_reached_only_through_the_machine_clients_url_conf() -> None:
    assert not [path for path in ROUTES if path.startswith(EXEMPT_PREFIXES)]
    machine = sorted({path for path, _ in page_routes(get_resolver(API_URLCONF).url_patterns)})
    ingest = [path for path in machine if path.startswith(EXEMPT_PREFIXES)]
    assert ingest == [
        "ingest/v1/edges/<str:name>/config",
        "ingest/v1/edges/<str:name>/config-status",
        "ingest/v1/reports",
    ]


@pytest.mark.parametrize("who", ["alice", "admin_user"])
def test_a_post_without_the_csrf_token_is_refused_on_every_route(
    who: str, request: pytest.FixtureRequest, world: Any
) -> None:
    user: User = request.getfixturevalue(who)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    audited = AuditEvent.objects.count()
    answers = {}
    for path in ROUTES:
        if path.startswith(EXEMPT_PREFIXES):
            continue
        response = client.post("/" + path, {"toggle": "websockets:off", "reason": "x"})
        answers[path] = response.status_code
    refused = {path for path, status in answers.items() if status == 403}
    assert refused == set(answers), {p: s for p, s in answers.items() if s != 403}
    assert AuditEvent.objects.count() == audited
