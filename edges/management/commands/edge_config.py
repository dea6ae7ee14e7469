"""manage.py edge_config EDGE --format haproxy|hipache: an edge's routing, rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from edges.agent import write_atomically
from edges.models import Edge
from edges.services.proxy_config import FORMATS, ConfigError, hipache_write, render


class Command(BaseCommand):
    help = (
        "Render an edge's routing for HAProxy (a configuration file) or Hipache (its "
        "frontend:<hostname> Redis lists, printed as JSON or written with --redis-url)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("edge", help="The edge's name.")
        parser.add_argument("--format", choices=FORMATS, required=True)
        parser.add_argument(
            "--stats-socket",
            help="HAProxy: where the stats socket listens (default /run/haproxy/admin.sock).",
        )
        parser.add_argument(
            "--bind", help="HAProxy: the address to listen on (default: every IPv4 address)."
        )
        parser.add_argument(
            "--output", "-o", help="Write to this file (atomically) instead of standard output."
        )
        parser.add_argument(
            "--redis-url",
            help="Hipache: write the lists into this Redis (redis://host:port/db) instead of "
            "printing them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        edge = Edge.objects.filter(name=options["edge"]).first()
        if edge is None:
            raise CommandError(f"There is no edge named {options['edge']!r}.")
        fmt = options["format"]
        if options["redis_url"]:
            if fmt != "hipache":
                raise CommandError("--redis-url writes Hipache's lists: use --format hipache.")
            self._write_redis(edge, options["redis_url"])
            return
        try:
            body = render(edge, fmt, stats_socket=options["stats_socket"], bind=options["bind"])
        except ConfigError as invalid:
            raise CommandError(str(invalid)) from None
        if options["output"]:
            write_atomically(Path(options["output"]), body)
            self.stderr.write(
                f"Wrote the {fmt} configuration of {edge.name} to {options['output']}."
            )
        else:
            self.stdout.write(body, ending="")

    def _write_redis(self, edge: Edge, url: str) -> None:
        import redis

        try:
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
            written, removed = hipache_write(edge, client)
        except ValueError as invalid:
            raise CommandError(f"--redis-url: {invalid}") from None
        except redis.RedisError as failed:
            raise CommandError(f"Could not write to Redis at {url}: {failed}") from None
        self.stdout.write(
            f"Wrote {written} frontend list{'s' if written != 1 else ''} of {edge.name} "
            f"to Hipache's Redis; removed {removed} that no longer route."
        )
