from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from edges.models import Edge
from edges.services.proxy_config import edge_routes
from edges.simulator import EdgeSim, Host

REFRESH_HOSTS_SECONDS = 10.0
# One demo edge falls silent for 20 s every 4 minutes, so staleness shows up in the demo.
SILENT_EDGES = {"globex-ssl"}
SILENCE_EVERY_SECONDS = 240.0


class Command(BaseCommand):
    help = (
        "Act as the demo's edges: post drifting reports (daily curve, bursts, a back-end dying "
        "and coming back, an edge going silent) to the ingest API with the edges' tokens."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Dashboard base URL.")
        parser.add_argument("--rate", type=float, default=1.0, help="Reports per second per edge.")
        parser.add_argument(
            "--credentials",
            type=Path,
            default=Path(".demo-credentials.json"),
            help="The demo's credentials file, holding the edges' ingest tokens.",
        )
        parser.add_argument(
            "--duration",
            type=float,
            default=0.0,
            help="Stop after this many seconds (default: run until stopped).",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress lines.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["rate"] <= 50:
            raise CommandError("--rate must be between 0 and 50 reports per second.")
        tokens = self._tokens(options["credentials"])
        url = options["url"].rstrip("/") + "/ingest/v1/reports"
        edges = self._edges(tokens)
        if not edges:
            raise CommandError("No edge has both hostnames and an ingest token to report with.")
        interval = 1.0 / options["rate"]
        deadline = time.monotonic() + options["duration"] if options["duration"] else None
        refreshed = time.monotonic()
        sent = failed = 0
        last_line = time.monotonic()
        while deadline is None or time.monotonic() < deadline:
            started = time.monotonic()
            if started - refreshed > REFRESH_HOSTS_SECONDS:
                edges = self._edges(tokens, previous=edges)
                refreshed = started
            for edge in edges:
                if edge.silent(time.time()):
                    continue
                if self._post(url, edge.token, edge.report(time.time())):
                    sent += 1
                else:
                    failed += 1
            if not options["quiet"] and time.monotonic() - last_line >= 10:
                self.stdout.write(f"simulate_edges: {sent} reports sent, {failed} failed")
                last_line = time.monotonic()
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
        self.stdout.write(f"simulate_edges: done, {sent} reports sent, {failed} failed")

    def _tokens(self, path: Path) -> dict[str, str]:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise CommandError(
                f"{path} not found: it is written by `make run` when it seeds the demo."
            ) from None
        except ValueError:
            raise CommandError(f"{path} is not valid JSON.") from None
        tokens = {
            e["name"]: e["ingest_token"] for e in data.get("edges", []) if e.get("ingest_token")
        }
        if not tokens:
            raise CommandError(f"{path} holds no edge ingest tokens.")
        return tokens

    def _edges(
        self, tokens: dict[str, str], previous: list[EdgeSim] | None = None
    ) -> list[EdgeSim]:
        seqs = {e.name: e.seq for e in previous or []}
        result = []
        for edge in Edge.objects.filter(name__in=tokens).order_by("name"):
            hosts = [
                Host.make(r.hostname, r.app, r.websockets, list(r.backends))
                for r in edge_routes(edge)
            ]
            if not hosts:
                continue
            result.append(
                EdgeSim(
                    name=edge.name,
                    token=tokens[edge.name],
                    hosts=hosts,
                    seq=seqs.get(edge.name, int(time.time() * 1000)),
                    # The last edge (alphabetically) goes silent now and then, to show staleness.
                    silent_every=240.0
                    if edge.kind == Edge.Kind.CUSTOM_SSL and edge.name.startswith("globex")
                    else 0.0,
                )
            )
        return result

    def _post(self, url: str, token: str, report: dict[str, Any]) -> bool:
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own dashboard
            url,
            data=json.dumps(report).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                return response.status in (200, 202)
        except (urllib.error.URLError, OSError) as error:
            self.stderr.write(f"simulate_edges: {report['edge']}: {error}")
            return False
