from __future__ import annotations

from django.contrib import admin

from dashboard.admin_base import AuditedModelAdmin
from edges.models import Certificate, Edge


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
