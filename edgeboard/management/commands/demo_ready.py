from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from edgeboard.demo import demo_seed


class Command(BaseCommand):
    help = "Seed the demo when the database is empty, then print the URL and the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--credentials",
            type=Path,
            required=True,
            help="File (mode 600) that keeps the demo logins between runs.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["credentials"]
        if not get_user_model().objects.exists():
            self.stdout.write("==> empty database: seeding the demo")
            result = demo_seed()
            users = [
                {k: u[k] for k in ("username", "password", "role", "org", "api_token")}
                for u in result["users"]
            ]
            edges = [
                {"name": e["name"], "ingest_token": e["ingest_token"]} for e in result["edges"]
            ]
            path.write_text(json.dumps({"users": users, "edges": edges}, indent=2))
            os.chmod(path, 0o600)
        url = f"http://127.0.0.1:{settings.PORT}/"
        self.stdout.write(self.style.SUCCESS(f"==> dashboard: {url}"))
        if not path.exists():
            self.stdout.write(
                "The database was seeded elsewhere, so the demo passwords are unknown here: set "
                "one with `python manage.py changepassword alice`."
            )
            return
        users = json.loads(path.read_text())["users"]
        self.stdout.write(f"    demo logins (also in {path}):")
        for user in users:
            where = f" of {user['org']}" if user["org"] else ""
            self.stdout.write(
                f"      {user['username']:<8} {user['password']:<18} {user['role']}{where}"
            )
