from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard import access
from dashboard.models import App, AuditEvent, Feature
from dashboard.models.features import app_feature_states
from dashboard.services.features import FeatureRefused, feature_set


class Command(BaseCommand):
    help = "List, enable and disable an app's lab features, through the same rules as the API."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="List the app's features and their state.")
        listing.add_argument("--app", required=True)
        for name in ("enable", "disable"):
            sub = actions.add_parser(name, help=f"{name.title()} a feature on an app.")
            sub.add_argument("feature")
            sub.add_argument("--app", required=True)
            sub.add_argument("--reason", default="", help="Why; kept in the audit trail.")
            sub.add_argument(
                "--share-reason",
                action="store_true",
                help="Let the app's organization read the reason (else it stays internal).",
            )
            sub.add_argument(
                "--as",
                dest="actor",
                metavar="USERNAME",
                help="Act as this staff user (default: the system, which needs --reason).",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        app = App.objects.filter(name=options["app"]).first()
        if app is None:
            raise CommandError(f"Couldn't find that app: {options['app']}.")
        if options["action"] == "list":
            for state in app_feature_states(app):
                mark = "[+]" if state.enabled else "[ ]"
                self.stdout.write(f"{mark} {state.feature.name:<24} {state.feature.description}")
            return
        feature = Feature.objects.filter(name=options["feature"], scope=Feature.Scope.APP).first()
        if feature is None:
            raise CommandError(f"Couldn't find that feature: {options['feature']}.")
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if not access.is_support(actor):
                raise CommandError(f"{options['actor']} is not a staff user.")
        elif not options["reason"].strip():
            raise CommandError("Give a --reason: changes made as the system are audited with one.")
        enabling = options["action"] == "enable"
        self.stdout.write(
            f"{'Enabling' if enabling else 'Disabling'} {feature.name} for {app.name}... ",
            ending="",
        )
        try:
            change = feature_set(
                app=app,
                feature=feature,
                enabled=enabling,
                actor=actor,
                source=AuditEvent.Source.CLI,
                reason=options["reason"],
                reason_shared=options["share_reason"],
            )
        except FeatureRefused as refusal:
            self.stdout.write("failed")
            edges = ", ".join(edge.name for edge in refusal.blocking_edges)
            hint = f" Upgrade {edges} to Hipache first." if edges else ""
            raise CommandError(f"{refusal.messages[0]}{hint}") from None
        except (PermissionDenied, ValidationError) as error:
            self.stdout.write("failed")
            message = error.messages[0] if isinstance(error, ValidationError) else str(error)
            raise CommandError(message) from None
        self.stdout.write("done" if change.changed else "done (no change)")
