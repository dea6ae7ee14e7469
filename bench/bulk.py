"""Benchmark-only data and measurements, run inside a server's environment (its database):

    python -m bench.bulk COMMAND '{"json": "arguments"}'

prints one JSON line. Rows are bulk-created straight into the tables (no audit events, no
validation beyond the database's own): this is scaffolding for `make bench`, not a way to
create apps.

ingest-world  one organization with N apps, each with its default domain on the `gateway`
              edge, and E more gateway edges whose ingest tokens are answered (B1).
pages-world   apps spread over organizations (the first being an existing one, e.g. acme),
              each with its default domain and custom domains on the `gateway` edge (B8).
platform-world  pages-world's apps and domains, E more gateway edges with their tokens, and
              every app's hostnames (B10).
queries       the SQL statements each page costs, through django.test.Client (B8).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from typing import Any

BATCH = 2000


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeboard.settings")
    import django

    django.setup()


def ingest_world(*, apps: int, edges: int, organization: str = "bench-ingest") -> dict[str, Any]:
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from dashboard.models import App, Domain, Organization
    from edges.models import Edge

    gateway = Edge.objects.get(name="gateway")
    now = timezone.now()
    with transaction.atomic():
        org = Organization.objects.create(name=organization, display_name="Ingest benchmark")
        names = [f"ingest-{i:05d}" for i in range(apps)]
        App.objects.bulk_create(
            [App(name=n, organization=org, created_at=now) for n in names], batch_size=BATCH
        )
        ids = dict(App.objects.filter(organization=org).values_list("name", "id"))
        hostnames = [f"{n}.{settings.PLATFORM_DOMAIN}" for n in names]
        Domain.objects.bulk_create(
            [
                Domain(
                    app_id=ids[n],
                    hostname=h,
                    kind=Domain.Kind.DEFAULT,
                    edge=gateway,
                    dns_status=Domain.DnsStatus.OK,
                )
                for n, h in zip(names, hostnames, strict=True)
            ],
            batch_size=BATCH,
        )
        tokens = gateway_edges(edges)
    return {"hostnames": hostnames, "edges": tokens}


def gateway_edges(edges: int) -> list[dict[str, str]]:
    """E more gateway edges (bench-gw-1 ...), with their raw ingest tokens."""
    from edges.services.edges import edge_create

    tokens = []
    for k in range(1, edges + 1):
        edge, raw = edge_create(
            name=f"bench-gw-{k}",
            hostname=f"bench-gw-{k}.example.net",
            kind="gateway",
            proxy="hipache",
            region="us",
            actor=None,
            source="cli",
        )
        tokens.append({"name": edge.name, "token": raw})
    return tokens


def pages_world(
    *,
    organizations: int,
    apps: int,
    custom_domains: int,
    first_organization: str,
) -> dict[str, Any]:
    from django.conf import settings
    from django.db import transaction

    from dashboard.models import App, Domain, Organization
    from edges.models import Edge

    gateway = Edge.objects.get(name="gateway")
    started = time.monotonic()
    with transaction.atomic():
        first = Organization.objects.get(name=first_organization)
        Organization.objects.bulk_create(
            [
                Organization(name=f"bench-org-{o:03d}", display_name=f"Benchmark org {o}")
                for o in range(1, organizations)
            ],
            batch_size=BATCH,
        )
        orgs = [first, *Organization.objects.filter(name__startswith="bench-org-").order_by("name")]
        # Creation dates from 2010 on, a day apart: apps on both sides of the WebSockets GA.
        epoch = dt.datetime(2010, 1, 1, 12, 0, tzinfo=dt.UTC)
        rows = [
            App(
                name=f"b8-{i % organizations:03d}-{i // organizations:04d}",
                organization=orgs[i % organizations],
                created_at=epoch + dt.timedelta(days=(i * 37) % 5000),
            )
            for i in range(apps)
        ]
        App.objects.bulk_create(rows, batch_size=BATCH)
        ids = dict(App.objects.filter(name__startswith="b8-").values_list("name", "id"))
        domains = []
        for name, app_id in ids.items():
            domains.append(
                Domain(
                    app_id=app_id,
                    hostname=f"{name}.{settings.PLATFORM_DOMAIN}",
                    kind=Domain.Kind.DEFAULT,
                    edge=gateway,
                    dns_status=Domain.DnsStatus.OK,
                )
            )
            domains.extend(
                Domain(
                    app_id=app_id,
                    hostname=f"www{c}.{name}.bench.example",
                    kind=Domain.Kind.CUSTOM,
                    edge=gateway,
                )
                for c in range(1, custom_domains + 1)
            )
        Domain.objects.bulk_create(domains, batch_size=BATCH)
    return {
        "apps": App.objects.count(),
        "domains": Domain.objects.count(),
        "organizations": Organization.objects.count(),
        "first_organization_apps": first.apps.count(),
        "seconds": round(time.monotonic() - started, 2),
    }


def platform_world(
    *,
    organizations: int,
    apps: int,
    custom_domains: int,
    first_organization: str,
    edges: int,
) -> dict[str, Any]:
    """pages-world's apps and domains, E more gateway edges, and every app's hostnames (B10)."""
    from django.db import transaction

    from dashboard.models import Domain

    world = pages_world(
        organizations=organizations,
        apps=apps,
        custom_domains=custom_domains,
        first_organization=first_organization,
    )
    with transaction.atomic():
        world["edges"] = gateway_edges(edges)
    hostnames: dict[str, list[str]] = {}
    rows = Domain.objects.filter(app__name__startswith="b8-").order_by("app__name", "hostname")
    for app, hostname in rows.values_list("app__name", "hostname"):
        hostnames.setdefault(app, []).append(hostname)
    world["hostnames"] = hostnames
    return world


def queries(*, pages: list[dict[str, str]], host: str) -> list[dict[str, Any]]:
    """Per page: the statements of a second request (the first one warms caches up)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = get_user_model().objects
    answers = []
    for page in pages:
        client = Client(HTTP_HOST=host)
        client.force_login(users.get(username=page["user"]))
        client.get(page["path"])
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(page["path"])
            elapsed = time.perf_counter() - started
        answers.append(
            {
                **page,
                "status": response.status_code,
                "queries": len(captured),
                "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
                "in_process_ms": elapsed * 1000,
                "statements": [
                    {"ms": float(q["time"]) * 1000, "sql": q["sql"][:400]}
                    for q in captured.captured_queries
                ],
            }
        )
    return answers


COMMANDS = {
    "ingest-world": ingest_world,
    "pages-world": pages_world,
    "platform-world": platform_world,
    "queries": queries,
}


def main(argv: list[str]) -> None:
    command, arguments = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    _setup()
    print(json.dumps(COMMANDS[command](**arguments)))


if __name__ == "__main__":
    main(sys.argv[1:])
