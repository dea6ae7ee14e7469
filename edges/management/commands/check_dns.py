from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import App, AuditEvent, Domain
from edges.services.dns_checks import check_domains


class Command(BaseCommand):
    help = (
        "Resolve custom domains' CNAMEs and record whether they point at their edge. Exits 1 "
        "when a domain needs a DNS change or does not resolve."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app", help="Only this app's domains.")

    def handle(self, *args: Any, **options: Any) -> None:
        domains = Domain.objects.all()
        if options["app"]:
            app = App.objects.filter(name=options["app"]).first()
            if app is None:
                raise CommandError(f"Couldn't find that app: {options['app']}.")
            domains = domains.filter(app=app)
        checked = check_domains(
            domains.order_by("hostname"), actor=None, source=AuditEvent.Source.CLI
        )
        problems = 0
        for domain in checked:
            detail = f" (points at {domain.dns_seen_target})" if domain.dns_seen_target else ""
            self.stdout.write(
                f"{domain.hostname:<40} {domain.dns_status:<20} "
                f"expects {domain.edge.hostname}{detail}"
            )
            problems += domain.dns_status != Domain.DnsStatus.OK
        self.stdout.write(f"Checked {len(checked)} custom domain(s); {problems} need attention.")
        if problems:
            raise CommandError(f"{problems} domain(s) do not point at their edge.")
