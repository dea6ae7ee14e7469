from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboard.admin.base import AuditedModelAdmin
from dashboard.models import AuditEvent
from edges.models import Certificate, Edge, EdgeUpgrade
from edges.services.upgrades import UpgradeConflict, upgrade_transition


class CertificateInline(admin.StackedInline):
    model = Certificate
    extra = 0


@admin.register(Edge)
class EdgeAdmin(AuditedModelAdmin):
    list_display = [
        "name",
        "hostname",
        "kind",
        "proxy",
        "organization",
        "region",
        "idle_timeout_seconds",
    ]
    list_filter = ["kind", "proxy", "region"]
    search_fields = ["name", "hostname", "organization__name"]
    readonly_fields = ["ingest_token_prefix", "ingest_token_hash", "created_at", "updated_at"]
    autocomplete_fields = ["organization"]
    inlines = [CertificateInline]


@admin.register(Certificate)
class CertificateAdmin(AuditedModelAdmin):
    list_display = ["common_name", "edge", "issuer", "not_after"]
    search_fields = ["common_name", "edge__name", "issuer"]
    list_filter = ["issuer"]
    autocomplete_fields = ["edge"]


@admin.register(EdgeUpgrade)
class EdgeUpgradeAdmin(admin.ModelAdmin):
    """Upgrades move only through the workflow's steps, never by editing fields."""

    list_display = ["pk", "edge", "state", "requested_by", "scheduled_for", "created_at"]
    list_filter = ["state"]
    search_fields = ["edge__name", "note"]
    actions = ["start", "complete", "cancel"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in EdgeUpgrade._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _step(self, request: HttpRequest, queryset: QuerySet[EdgeUpgrade], action: str) -> None:
        for upgrade in queryset:
            try:
                upgrade_transition(
                    upgrade=upgrade,
                    action=action,
                    actor=request.user,
                    source=AuditEvent.Source.ADMIN,
                )
            except UpgradeConflict as conflict:
                self.message_user(request, conflict.message, messages.ERROR)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Upgrade #{upgrade.pk} of {upgrade.edge}: done ({action}).",
                    messages.SUCCESS,
                )

    @admin.action(description="Start the selected (scheduled) upgrades")
    def start(self, request: HttpRequest, queryset: QuerySet[EdgeUpgrade]) -> None:
        self._step(request, queryset, "start")

    @admin.action(description="Complete the selected (in progress) upgrades")
    def complete(self, request: HttpRequest, queryset: QuerySet[EdgeUpgrade]) -> None:
        self._step(request, queryset, "complete")

    @admin.action(description="Cancel the selected (requested or scheduled) upgrades")
    def cancel(self, request: HttpRequest, queryset: QuerySet[EdgeUpgrade]) -> None:
        self._step(request, queryset, "cancel")
