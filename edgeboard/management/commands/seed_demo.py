from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from edgeboard.demo import demo_seed


class Command(BaseCommand):
    help = "Create the demo organizations, users, edges, apps and lab features (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--password", help="Password for every new demo user (default: random per user)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        if password is not None and len(password) < 8:
            raise CommandError("--password must be at least 8 characters long.")
        try:
            result = demo_seed(password=password)
        except ValidationError as error:
            raise CommandError(f"demo data is invalid: {'; '.join(error.messages)}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        created = [u for u in result["users"] if u["password"]]
        if not created:
            self.stdout.write("The demo is already in place; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS("Demo created. Sign in with:"))
        for user in created:
            org = f" in {user['org']}" if user["org"] else ""
            self.stdout.write(f"  {user['username']:<8} {user['password']:<20} {user['role']}{org}")
