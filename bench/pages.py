"""B8 pages: the overview at platform scale.

A fresh seeded database grows to 10,000 more apps over 100 organizations (acme, alice's, is one
of them and gets 100) with 30,000 more domains (each app's default domain and two custom ones,
all on the `gateway` edge), bulk-created. One real daphne serves it; signed in through the
login form, GET / as support (staff), GET / as alice (a customer) and GET /?page=50 as support,
one after the other over one keep-alive connection, after two unmeasured requests each. The
number of SQL statements a page costs comes from the same requests through django.test.Client
in a process with the server's environment (CaptureQueriesContext, the second request of each).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.clients import clock
from bench.common import (
    Http,
    cpu_seconds,
    database_label,
    e2e,
    flush_redis_prefix,
    in_server_env,
    peak_rss_mib,
    percentile,
    reflow,
    say,
    seeded,
    table,
)

# (who, path) per page measured.
PAGES = [("support", "/"), ("alice", "/"), ("support", "/?page=50")]
WARMUP = 2

FIGURES = [
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p90_ms", "p90 ms", "{:.1f}"),
    ("max_ms", "max ms", "{:.1f}"),
    ("queries", "queries", "{:.0f}"),
    ("sql_ms", "SQL ms", "{:.1f}"),
    ("in_process_ms", "in-process ms", "{:.1f}"),
    ("kib", "KiB", "{:.0f}"),
    ("errors", "errors", "{:.0f}"),
]

LEGEND = """\
B8: {apps:,} apps and {domains:,} domains in {organizations} organizations ({database}); each
  page requested {requests} times in a row over HTTP with a signed-in session. ms: request sent
  to the whole page read. queries: SQL statements of one request (session and user included),
  SQL ms their time, in-process ms the whole request through django.test.Client (same process as
  the statements). KiB: the page's size. Targets: p50 < 30 ms, <= 6 queries."""


@dataclass(frozen=True)
class PagesConfig:
    requests: int
    organizations: int
    apps: int
    custom_domains: int
    customer_organization: str = "acme"


def measure_page(http: Http, cookie: str, path: str, requests: int) -> dict[str, Any]:
    headers = {"Cookie": cookie}
    for _ in range(WARMUP):
        http.request("GET", path, headers=headers)
    timings = []
    errors = 0
    size = 0
    for _ in range(requests):
        sent = clock()
        try:
            status, body = http.request("GET", path, headers=headers)
        except Exception:
            errors += 1
            continue
        timings.append((clock() - sent) * 1000)
        if status != 200:
            errors += 1
        size = len(body)
    timings.sort()
    return {
        "requests": requests,
        "p50_ms": percentile(timings, 50),
        "p90_ms": percentile(timings, 90),
        "max_ms": timings[-1] if timings else float("nan"),
        "mean_ms": statistics.fmean(timings) if timings else float("nan"),
        "errors": errors,
        "kib": size / 1024,
    }


def run(tmp: Path, config: PagesConfig, database_url: str | None) -> list[dict[str, Any]]:
    helpers = e2e()
    from tests.e2e.live_client import session_cookie

    database = database_label(database_url)
    place = tmp / "b8"
    place.mkdir(exist_ok=True)
    say(f"B8 {database}: a fresh seeded database")
    with seeded(place, ["http://127.0.0.1:8000"]) as server:
        started = clock()
        world = in_server_env(
            server.env,
            "pages-world",
            {
                "organizations": config.organizations,
                "apps": config.apps,
                "custom_domains": config.custom_domains,
                "first_organization": config.customer_organization,
            },
        )
        say(
            f"B8 {database}: {world['apps']:,} apps, {world['domains']:,} domains in "
            f"{world['organizations']} organizations ({config.customer_organization}: "
            f"{world['first_organization_apps']} apps), created in {clock() - started:.1f} s"
        )
        port = helpers.free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**server.env, "DASHBOARD_ORIGINS": url, "PORT": str(port)}
        queries = {
            (q["user"], q["path"]): q
            for q in in_server_env(
                env,
                "queries",
                {"pages": [{"user": u, "path": p} for u, p in PAGES], "host": "127.0.0.1"},
            )
        }
        process = helpers.start_daphne(port, env, place / "daphne.log")
        rows = []
        try:
            say(f"B8 {database}: daphne up, pid {process.pid}")
            cookies = {u: session_cookie(url, u, helpers.DEMO_PASSWORD) for u, _ in PAGES}
            cpu_before = cpu_seconds(process.pid)
            http = Http(url)
            for user, path in PAGES:
                figures = measure_page(http, cookies[user], path, config.requests)
                counted = queries[(user, path)]
                row = {
                    "bench": "B8",
                    "database": database,
                    "user": user,
                    "path": path,
                    **figures,
                    "queries": counted["queries"],
                    "sql_ms": counted["sql_ms"],
                    "in_process_ms": counted["in_process_ms"],
                    "statements": counted["statements"],
                    "world": world,
                }
                rows.append(row)
                say(
                    f"B8 {database}: GET {path} as {user}: p50 {row['p50_ms']:.1f} ms, "
                    f"p90 {row['p90_ms']:.1f} ms, max {row['max_ms']:.1f} ms, "
                    f"{row['queries']} queries, {row['kib']:.0f} KiB, {row['errors']} errors"
                )
            http.close()
            cpu = cpu_seconds(process.pid) - cpu_before
            rss = peak_rss_mib(process.pid)
            for row in rows:
                row["server_cpu_s_all_pages"] = cpu
                row["server_peak_rss_mib"] = rss
        finally:
            helpers.stop(process)
            flush_redis_prefix(env.get("REDIS_URL"), env.get("CHANNEL_LAYER_PREFIX"))
    return rows


def render(rows: list[dict[str, Any]], config: PagesConfig) -> str:
    header = ["bench", "database", "user", "path", *(title for _, title, _ in FIGURES)]
    lines = [
        [
            row["bench"],
            row["database"],
            row["user"],
            row["path"],
            *(form.format(row[key]) for key, _, form in FIGURES),
        ]
        for row in rows
    ]
    world = rows[0]["world"] if rows else {}
    legend = LEGEND.format(
        apps=world.get("apps", 0),
        domains=world.get("domains", 0),
        organizations=world.get("organizations", 0),
        database=rows[0]["database"] if rows else "-",
        requests=config.requests,
    )
    return "\n".join([table(header, lines), "", reflow(legend)])
