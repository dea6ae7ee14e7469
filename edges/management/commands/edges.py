from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import AuditEvent, Organization
from edges.models import Edge, EdgeUpgrade
from edges.services.edges import edge_create, edge_ingest_token_rotate
from edges.services.upgrades import (
    TRANSITIONS,
    WINDOW_ACTIONS,
    UpgradeConflict,
    upgrade_request,
    upgrade_transition,
    window_overdue,
)

SOURCE = AuditEvent.Source.CLI


def _when(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--at must be an ISO 8601 date and time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "List and create edges, rotate their ingest tokens and drive WebSocket upgrades of "
        "custom SSL edges from scripts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("list", help="Every edge with its proxy and open upgrade.")
        create = commands.add_parser(
            "create", help="Create an edge and print its ingest token (shown only once)."
        )
        create.add_argument("name")
        create.add_argument("--hostname", required=True, help="The CNAME target of the edge.")
        create.add_argument("--kind", choices=Edge.Kind.values, required=True)
        create.add_argument("--proxy", choices=Edge.Proxy.values, required=True)
        create.add_argument("--region", choices=["us", "eu"], default="us")
        create.add_argument("--org", help="The organization a custom SSL edge is dedicated to.")
        for port in ("http", "https", "ws", "wss"):
            create.add_argument(f"--{port}-port", type=int)
        create.add_argument("--idle-timeout", type=int, help="Seconds (default 55).")
        create.add_argument("--json", action="store_true", help="Print the edge as JSON.")
        rotate = commands.add_parser(
            "rotate-token",
            help="Give the edge a new ingest token, printed once; the old one stops at once.",
        )
        rotate.add_argument("edge")
        rotate.add_argument("--as", dest="actor", metavar="USERNAME")
        upgrade = commands.add_parser("upgrade", help="Request or move an upgrade along.")
        steps = upgrade.add_subparsers(dest="step", required=True)
        listing = steps.add_parser("list", help="Upgrades, open ones first.")
        listing.add_argument("--open", action="store_true", help="Only open upgrades.")
        request = steps.add_parser("request", help="Request the upgrade of a legacy SSL edge.")
        request.add_argument("edge")
        request.add_argument("--note", default="")
        request.add_argument("--as", dest="actor", metavar="USERNAME")
        for step in TRANSITIONS:
            sub = steps.add_parser(step, help=f"{step.title()} the edge's open upgrade.")
            sub.add_argument("edge")
            sub.add_argument("--note", default="")
            sub.add_argument(
                "--as",
                dest="actor",
                metavar="USERNAME",
                help="Act as this staff user (default: the system).",
            )
            if step in WINDOW_ACTIONS:
                sub.add_argument(
                    "--at", required=True, help="Window start, ISO 8601 (UTC), in the future."
                )
            if step == "complete":
                sub.add_argument("--new-hostname", default="", help="New CNAME target, if any.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "create":
            self._create(options)
            return
        if options["command"] == "rotate-token":
            self._rotate(options)
            return
        if options["command"] == "list":
            for edge in Edge.objects.select_related("organization").order_by("name"):
                upgrade = edge.upgrades.open().first()
                state = f"upgrade #{upgrade.pk} {upgrade.state}" if upgrade else ""
                org = edge.organization.name if edge.organization else "shared"
                self.stdout.write(
                    f"{edge.name:<16} {edge.kind:<11} {edge.proxy:<13} {org:<12} "
                    f"{edge.hostname:<36} {state}".rstrip()
                )
            return
        step = options["step"]
        if step == "list":
            upgrades = EdgeUpgrade.objects.select_related("edge").order_by("-created_at")
            if options["open"]:
                upgrades = upgrades.open()
            for upgrade in upgrades:
                when = upgrade.scheduled_for.isoformat() if upgrade.scheduled_for else "-"
                overdue = " OVERDUE" if window_overdue(upgrade) else ""
                self.stdout.write(
                    f"#{upgrade.pk:<4} {upgrade.edge.name:<16} {upgrade.state:<12} window {when}"
                    f"{overdue}"
                )
            return
        edge = Edge.objects.filter(name=options["edge"]).first()
        if edge is None:
            raise CommandError(f"Couldn't find that edge: {options['edge']}.")
        actor = self._actor(options.get("actor"))
        window = _when(options["at"]) if options.get("at") else None
        try:
            if step == "request":
                upgrade = upgrade_request(
                    edge=edge, actor=actor, source=SOURCE, note=options["note"]
                )
            else:
                upgrade = edge.upgrades.open().first()
                if upgrade is None:
                    raise CommandError(f"{edge.name} has no open upgrade.")
                upgrade = upgrade_transition(
                    upgrade=upgrade,
                    action=step,
                    actor=actor,
                    source=SOURCE,
                    scheduled_for=window,
                    note=options["note"],
                    new_hostname=options.get("new_hostname") or "",
                )
        except UpgradeConflict as conflict:
            raise CommandError(conflict.message) from None
        except (ValidationError, PermissionDenied) as error:
            message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            raise CommandError(message) from None
        self.stdout.write(f"Upgrade #{upgrade.pk} of {edge.name}: {upgrade.state}")

    def _create(self, options: dict[str, Any]) -> None:
        organization = None
        if options["org"]:
            organization = Organization.objects.filter(name=options["org"]).first()
            if organization is None:
                raise CommandError(f"No organization is called {options['org']!r}.")
        extra = {
            f"{port}_port": options[f"{port}_port"]
            for port in ("http", "https", "ws", "wss")
            if options[f"{port}_port"] is not None
        }
        if options["idle_timeout"] is not None:
            extra["idle_timeout_seconds"] = options["idle_timeout"]
        try:
            edge, token = edge_create(
                name=options["name"],
                hostname=options["hostname"],
                kind=options["kind"],
                proxy=options["proxy"],
                region=options["region"],
                organization=organization,
                actor=None,
                source=SOURCE,
                **extra,
            )
        except ValidationError as invalid:
            raise CommandError(" ".join(invalid.messages)) from None
        if options["json"]:
            self.stdout.write(json.dumps({"name": edge.name, "ingest_token": token}))
            return
        self.stdout.write(f"Created edge {edge.name} ({edge.get_proxy_display()}).")
        self.stdout.write(f"Ingest token (shown once, keep it on the edge host): {token}")

    def _rotate(self, options: dict[str, Any]) -> None:
        edge = Edge.objects.filter(name=options["edge"]).first()
        if edge is None:
            raise CommandError(f"Couldn't find that edge: {options['edge']}.")
        actor = self._actor(options.get("actor"))
        token = edge_ingest_token_rotate(edge=edge, actor=actor, source=SOURCE)
        self.stdout.write(f"Rotated the ingest token of {edge.name}; the old one no longer works.")
        self.stdout.write(f"New ingest token (shown once, put it on the edge host): {token}")

    def _actor(self, username: str | None) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        return user
