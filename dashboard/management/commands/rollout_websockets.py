from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import AuditEvent, Feature
from dashboard.models.features import WEBSOCKETS
from dashboard.services.features import FeatureRefused, feature_set
from dashboard.services.rollout import rollout_plan


def _percent(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise CommandError(f"--percent must be a number, got {value!r}") from None
    if not 0 <= number <= 100:
        raise CommandError(f"--percent must be between 0 and 100, got {value}")
    return number


class Command(BaseCommand):
    help = (
        "Turn websockets on for a stable cohort of the apps created before general "
        "availability. Raising --percent later extends the same cohort."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--percent", required=True, help="Share of pre-GA apps, 0-100.")
        parser.add_argument("--dry-run", action="store_true", help="Show the plan, change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        percent = _percent(options["percent"])
        feature = Feature.objects.filter(name=WEBSOCKETS).first()
        if feature is None:
            raise CommandError("The websockets feature is not in the catalog.")
        decisions, outside = rollout_plan(percent)
        to_enable = [d for d in decisions if d.action == "enable"]
        skipped = [d for d in decisions if d.action in ("blocked", "opted_out")]
        already = sum(1 for d in decisions if d.action == "already_on")
        verb = "Would enable" if options["dry_run"] else "Enabling"
        self.stdout.write(
            f"{verb} websockets on {len(to_enable)} of {len(decisions)} pre-GA apps in the "
            f"{percent:g}% cohort ({already} already on, {len(skipped)} skipped, {outside} "
            "outside the cohort)."
        )
        enabled = 0
        failed: list[tuple[str, str]] = []
        if not options["dry_run"]:
            progress = _Progress(len(to_enable), sys.stderr)
            for decision in to_enable:
                try:
                    change = feature_set(
                        app=decision.app,
                        feature=feature,
                        enabled=True,
                        actor=None,
                        source=AuditEvent.Source.ROLLOUT,
                        reason=f"websockets rollout {percent:g}%",
                    )
                    enabled += int(change.changed)
                except (FeatureRefused, ValidationError) as error:
                    failed.append((decision.app.name, error.messages[0]))
                progress.step()
            progress.finish()
        for decision in skipped:
            self.stdout.write(f"  skipped {decision.app.name}: {decision.reason}")
        for name, message in failed:
            self.stdout.write(f"  failed  {name}: {message}")
        if options["dry_run"]:
            for decision in to_enable:
                self.stdout.write(f"  would enable {decision.app.name}")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: enabled {enabled}, already on {already}, skipped {len(skipped)}, "
                f"failed {len(failed)}."
            )
        )
        if failed:
            raise CommandError(f"{len(failed)} app(s) could not be enabled; see above.")


class _Progress:
    """A one-line progress bar on a terminal; nothing when output is piped."""

    def __init__(self, total: int, stream: Any) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.enabled = total > 0 and stream.isatty()

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
            )
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
