from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from dashboard.models import ApiToken, AuditEvent
from dashboard.services.tokens import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create, list and revoke Platform API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a token and print it once.")
        create.add_argument("username")
        create.add_argument("--label", default="command line")
        create.add_argument(
            "--expires-in", type=int, metavar="DAYS", help="Expire after DAYS days (default: never)"
        )
        listing = actions.add_parser("list", help="List tokens (prefix, label, use).")
        listing.add_argument("username", nargs="?")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = self._user(options["username"])
            try:
                days = options["expires_in"]
                if days is not None and days < 1:
                    raise CommandError("--expires-in takes a number of days, 1 or more.")
                _, raw = api_token_create(
                    user=user,
                    label=options["label"],
                    expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
                    actor=None,
                    source=AuditEvent.Source.CLI,
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
            self.stdout.write(raw)
            self.stderr.write("Store this token now: it is shown only once.")
        elif action == "list":
            tokens = ApiToken.objects.select_related("user").order_by(
                "user__username", "-created_at"
            )
            if options["username"]:
                tokens = tokens.filter(user=self._user(options["username"]))
            for token in tokens:
                used = token.last_used_at.isoformat() if token.last_used_at else "never"
                state = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "active"
                if token.revoked_at is None and token.expires_at is not None:
                    verb = "expired" if token.is_expired else "expires"
                    state = f"{verb} {token.expires_at.isoformat()}"
                self.stdout.write(
                    f"{token.prefix}…  {token.user.get_username():<12} {token.label:<20} "
                    f"last used {used}  {state}"
                )
        else:
            prefix = options["prefix"].rstrip("…")
            matches = list(ApiToken.objects.filter(Q(prefix=prefix) | Q(prefix__startswith=prefix)))
            if len(prefix) < 6 or not matches:
                raise CommandError(f"No token has the prefix {prefix!r}.")
            if len(matches) > 1:
                raise CommandError(f"{len(matches)} tokens start with {prefix!r}; give more of it.")
            api_token_revoke(token=matches[0], actor=None, source=AuditEvent.Source.CLI)
            self.stdout.write(f"Revoked {matches[0].prefix}… of {matches[0].user.get_username()}.")

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        return user
