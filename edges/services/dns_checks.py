"""Running DNS checks of custom domains and storing what they found."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dashboard.models import Domain
from dashboard.services.domains import domain_dns_record
from edges.dns import lookup_many


def check_domains(domains: QuerySet[Domain], *, actor: Any, source: str) -> list[Domain]:
    """Look up the custom domains (in parallel, time-boxed) and record each answer."""
    targets = list(domains.filter(kind=Domain.Kind.CUSTOM).select_related("edge", "app"))
    answers = lookup_many(targets)
    return [
        domain_dns_record(
            domain=domain,
            status=answers[domain.pk].status,
            seen=answers[domain.pk].seen,
            actor=actor,
            source=source,
        )
        for domain in targets
    ]
