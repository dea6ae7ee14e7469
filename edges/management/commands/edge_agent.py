"""manage.py edge_agent: keep a local HAProxy configured by the dashboard and report its live
connections. Runs on the edge host; see the README's "Running the edge agent"."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from edges.agent import Agent

TOKEN_ENV = "EDGE_AGENT_TOKEN"  # noqa: S105 - the name of a variable, not a secret


class Command(BaseCommand):
    help = (
        "Poll the dashboard for this edge's HAProxy configuration, apply it (haproxy -c, then a "
        "reload that keeps established connections), and report HAProxy's connections back "
        "every interval."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--edge", required=True, help="The edge's name on the dashboard.")
        parser.add_argument(
            "--url", required=True, help="The dashboard, e.g. https://dash.example.net"
        )
        parser.add_argument(
            "--token",
            help=f"The edge's ingest token (or set {TOKEN_ENV}, which keeps it out of ps).",
        )
        parser.add_argument(
            "--haproxy-config", required=True, help="The configuration file HAProxy runs with."
        )
        parser.add_argument(
            "--haproxy-socket", required=True, help="HAProxy's stats socket (level admin)."
        )
        parser.add_argument(
            "--master-socket",
            help="HAProxy's master CLI socket (haproxy -W -S PATH): reloads go through it, and "
            "connections still held by old workers after a reload are counted.",
        )
        parser.add_argument(
            "--reload-command",
            help="Without a master socket: the command that reloads HAProxy gracefully, e.g. "
            "'systemctl reload haproxy'.",
        )
        parser.add_argument("--haproxy-bin", default="haproxy", help="For haproxy -c.")
        parser.add_argument(
            "--bind", help="The address HAProxy listens on (default: every IPv4 address)."
        )
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds (default 1).")

    def handle(self, *args: Any, **options: Any) -> None:
        token = options["token"] or os.environ.get(TOKEN_ENV, "")
        if not token:
            raise CommandError(f"Give the edge's ingest token with --token or {TOKEN_ENV}.")
        if not 0.2 <= options["interval"] <= 300:
            raise CommandError("--interval must be between 0.2 and 300 seconds.")
        if not (options["master_socket"] or options["reload_command"]):
            raise CommandError(
                "HAProxy must be reloadable: give --master-socket or --reload-command."
            )
        config = Path(options["haproxy_config"])
        if not config.parent.is_dir():
            raise CommandError(f"{config.parent} is not a directory.")
        try:
            agent = Agent(
                edge=options["edge"],
                url=options["url"],
                token=token,
                config_path=config,
                stats_socket=options["haproxy_socket"],
                master_socket=options["master_socket"],
                reload_command=options["reload_command"],
                haproxy_bin=options["haproxy_bin"],
                bind=options["bind"],
                interval=options["interval"],
                log=self._log,
            )
        except ValueError as invalid:
            raise CommandError(str(invalid)) from None
        stopping = {"now": False}

        def stop(signum: int, _frame: Any) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self._log(
            f"edge agent for {agent.edge}: {agent.url}, config {config}, "
            f"stats {agent.stats_socket}, every {agent.interval:g} s"
        )
        agent.run(stop=lambda: stopping["now"])
        self._log("stopped")

    def _log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        sys.stderr.write(f"{stamp} {message}\n")
        sys.stderr.flush()
