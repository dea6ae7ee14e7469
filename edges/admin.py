from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from dashboard.admin.base import (
    AuditedModelAdmin,
    ReadOnlyInline,
    adopt,
    confirmation,
    refusal_text,
)
from dashboard.models import AuditEvent
from edges.capabilities import capabilities_of
from edges.models import Certificate, Edge, EdgeUpgrade, UpgradeStep
from edges.services.edges import (
    EDITABLE_FIELDS,
    certificate_remove,
    certificate_set,
    edge_create,
    edge_delete,
    edge_ingest_token_rotate,
    edge_proxy_switch_turning_websockets_off,
    edge_update,
    websocket_apps_behind,
)
from edges.services.upgrades import UpgradeConflict, upgrade_transition

ADMIN = AuditEvent.Source.ADMIN
# What each upgrade step asks before it is taken from the admin site.
STEP_WARNINGS = {
    "start": (
        "Start upgrades",
        "Start these upgrades now? Each edge's customer sees theirs in progress, and the apps "
        "behind the edges may lose open connections while the proxy is switched.",
    ),
    "complete": (
        "Complete upgrades",
        "Mark these upgrades complete? Each edge is switched to Hipache at once, its new "
        "configuration is served to its agent, and its customer sees the upgrade done.",
    ),
    "cancel": (
        "Cancel upgrades",
        "Cancel these upgrades? Each customer sees theirs cancelled; the edges stay on their "
        "current proxy, and websockets stays off for the apps behind them.",
    ),
}
# Set on the request by a save that created an edge: its token, shown on the page that follows.
JUST_CREATED = "_edgeboard_new_ingest_token"


class CertificateInline(ReadOnlyInline):
    model = Certificate
    fields = ["common_name", "issuer", "not_after"]


class ProxySwitchForm(forms.Form):
    proxy = forms.ChoiceField(
        choices=[(p, label) for p, label in Edge.Proxy.choices if not capabilities_of(p).websockets]
    )
    reason = forms.CharField(max_length=500, help_text="Kept in each app's audit trail.")


def _tokens_page(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    tokens: list[tuple[Edge, str]],
    **extra: Any,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Ingest tokens",
        "tokens": tokens,
        "opts": Edge._meta,
        **extra,
    }
    response = TemplateResponse(request, "admin/edges/edge/ingest_tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


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
    readonly_fields = ["ingest_token_prefix", "created_at", "updated_at"]
    exclude = ["ingest_token_hash"]
    autocomplete_fields = ["organization"]
    inlines = [CertificateInline]
    actions = ["rotate_ingest_token", "switch_proxy_turning_websockets_off"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # An edge's name is what its agent and its reports call it.
        return [*self.readonly_fields, *(["name"] if obj is not None else [])]

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in EDITABLE_FIELDS}
            edge_update(edge=obj, changes=changes, actor=request.user, source=ADMIN)
            return
        ports = {f: getattr(obj, f) for f in EDITABLE_FIELDS if f.endswith(("_port", "_seconds"))}
        edge, token = edge_create(
            name=obj.name,
            hostname=obj.hostname,
            kind=obj.kind,
            proxy=obj.proxy,
            region=obj.region,
            organization=obj.organization,
            actor=request.user,
            source=ADMIN,
            **ports,
        )
        adopt(obj, edge)
        setattr(request, JUST_CREATED, token)

    def response_add(self, request: HttpRequest, obj: Any, *args: Any) -> HttpResponse:
        token = getattr(request, JUST_CREATED, None)
        if token is None:
            return super().response_add(request, obj, *args)
        return _tokens_page(request, self, [(obj, token)])

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        edge_delete(edge=obj, actor=request.user, source=ADMIN)

    @admin.action(description="Rotate the ingest token of the selected edges…")
    def rotate_ingest_token(self, request: HttpRequest, queryset: QuerySet[Edge]) -> Any:
        asked = confirmation(
            self,
            request,
            queryset.order_by("name"),
            title="Rotate ingest tokens",
            warning="Rotate the ingest token of these edges? Each edge's current token stops "
            "working at once: its agent's reports are refused until it is given the new token, "
            "which the next page shows once.",
            button="Rotate the tokens",
        )
        if asked is not None:
            return asked
        tokens = [
            (edge, edge_ingest_token_rotate(edge=edge, actor=request.user, source=ADMIN))
            for edge in queryset.order_by("name")
        ]
        return _tokens_page(request, self, tokens, rotated=True)

    @admin.action(description="Switch the proxy, turning websockets off behind the edges…")
    def switch_proxy_turning_websockets_off(
        self, request: HttpRequest, queryset: QuerySet[Edge]
    ) -> Any:
        """Ask for the proxy and a reason, then switch edge by edge through the service."""
        form = ProxySwitchForm(request.POST if "apply" in request.POST else None)
        edges = list(queryset.order_by("name"))
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Switch to a proxy without WebSockets",
                "edges": [(e, [a.name for a in websocket_apps_behind(e)]) for e in edges],
                "form": form,
                "action": request.POST.get("action"),
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/edges/edge/proxy_switch.html", context)
        for edge in edges:
            try:
                turned_off = edge_proxy_switch_turning_websockets_off(
                    edge=edge,
                    proxy=form.cleaned_data["proxy"],
                    actor=request.user,
                    source=ADMIN,
                    reason=form.cleaned_data["reason"],
                )
            except (ValidationError, PermissionDenied) as error:
                message = refusal_text(error) if isinstance(error, ValidationError) else str(error)
                self.message_user(request, f"{edge.name} not switched: {message}", messages.ERROR)
                continue
            off = ", ".join(turned_off) or "no app"
            self.message_user(
                request,
                f"{edge.name} switched; websockets turned off for {off}.",
                messages.SUCCESS,
            )
        return None


@admin.register(Certificate)
class CertificateAdmin(AuditedModelAdmin):
    list_display = ["common_name", "edge", "issuer", "not_after"]
    search_fields = ["common_name", "edge__name", "issuer"]
    list_filter = ["issuer"]
    autocomplete_fields = ["edge"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["edge"] if obj is not None else []

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        certificate = certificate_set(
            edge=obj.edge,
            common_name=obj.common_name,
            sans=obj.sans,
            issuer=obj.issuer,
            not_before=obj.not_before,
            not_after=obj.not_after,
            actor=request.user,
            source=ADMIN,
        )
        adopt(obj, certificate)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        certificate_remove(certificate=obj, actor=request.user, source=ADMIN)


class UpgradeStepInline(admin.TabularInline):
    """The upgrade's timeline, read-only: steps are written by the workflow alone."""

    model = UpgradeStep
    extra = 0
    fields = ["action", "actor_label", "at", "window", "previous_window", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EdgeUpgrade)
class EdgeUpgradeAdmin(admin.ModelAdmin):
    """Upgrades move only through the workflow's steps, never by editing fields."""

    inlines = [UpgradeStepInline]
    list_display = ["pk", "edge", "state", "requested_by", "scheduled_for", "created_at"]
    list_filter = ["state"]
    search_fields = ["edge__name", "steps__note"]
    actions = ["start", "complete", "cancel"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in EdgeUpgrade._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _step(self, request: HttpRequest, queryset: QuerySet[EdgeUpgrade], action: str) -> Any:
        title, warning = STEP_WARNINGS[action]
        upgrades = queryset.select_related("edge", "edge__organization").order_by("pk")
        asked = confirmation(
            self,
            request,
            upgrades,
            title=title,
            warning=warning,
            button=f"{action.capitalize()} the upgrades",
            items=[f"#{u.pk} of {u.edge} ({u.get_state_display().lower()})" for u in upgrades],
        )
        if asked is not None:
            return asked
        for upgrade in upgrades:
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

        return None

    @admin.action(description="Start the selected (scheduled) upgrades…")
    def start(self, request: HttpRequest, queryset: QuerySet[EdgeUpgrade]) -> Any:
        return self._step(request, queryset, "start")

    @admin.action(description="Complete the selected (in progress) upgrades…")
    def complete(self, request: HttpRequest, queryset: QuerySet[EdgeUpgrade]) -> Any:
        return self._step(request, queryset, "complete")

    @admin.action(description="Cancel the selected (requested or scheduled) upgrades…")
    def cancel(self, request: HttpRequest, queryset: QuerySet[EdgeUpgrade]) -> Any:
        return self._step(request, queryset, "cancel")
