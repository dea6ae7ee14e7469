from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from dashboard.admin import users  # noqa: F401 (registers the people's admin)
from dashboard.admin.base import AuditedModelAdmin, ReadOnlyInline, adopt, confirmation
from dashboard.models import (
    ApiToken,
    App,
    AppFeature,
    AuditEvent,
    Backend,
    Domain,
    Feature,
    Membership,
    Organization,
)
from dashboard.services.accounts import membership_set, organization_create
from dashboard.services.apps import app_create, backend_add, backend_remove
from dashboard.services.domains import domain_add, domain_remove, domain_update
from dashboard.services.features import (
    FEATURE_FIELDS,
    FeatureRefused,
    feature_define,
    feature_set,
)
from dashboard.services.tokens import api_token_revoke

ADMIN = AuditEvent.Source.ADMIN


def _readonly_once_created(
    model_admin: admin.ModelAdmin, request: HttpRequest, obj: Any, fields: list[str]
) -> list[str]:
    """What names the row cannot change once it exists: delete and add it again instead."""
    always = list(admin.ModelAdmin.get_readonly_fields(model_admin, request, obj))
    return always + fields if obj is not None else always


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ["user", "role"]


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    list_display = ["name", "display_name", "created_at"]
    search_fields = ["name", "display_name"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Topics and addresses are named after it.
        return _readonly_once_created(self, request, obj, ["name"])

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().service_save(request, obj, form, change)
            return
        created = organization_create(
            name=obj.name, display_name=obj.display_name, actor=request.user, source=ADMIN
        )
        adopt(obj, created)


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return _readonly_once_created(self, request, obj, ["user", "organization"])

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        membership = membership_set(
            organization=obj.organization,
            user=obj.user,
            role=obj.role,
            actor=request.user,
            source=ADMIN,
        )
        adopt(obj, membership)


class DomainInline(ReadOnlyInline):
    model = Domain
    fields = ["hostname", "kind", "edge", "dns_status"]


class BackendInline(ReadOnlyInline):
    model = Backend
    fields = ["host", "port", "created_at"]


class FeatureActionForm(forms.Form):
    feature = forms.ModelChoiceField(
        queryset=Feature.objects.filter(scope=Feature.Scope.APP), to_field_name="name"
    )
    reason = forms.CharField(max_length=500, help_text="Kept in the audit trail.")


@admin.register(App)
class AppAdmin(AuditedModelAdmin):
    list_display = ["name", "organization", "region", "stack", "created_at"]
    list_filter = ["region", "stack", "organization"]
    search_fields = ["name", "domains__hostname", "organization__name"]
    readonly_fields = ["uuid", "updated_at"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["organization"]
    inlines = [DomainInline, BackendInline]
    actions = ["enable_feature", "disable_feature"]

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().service_save(request, obj, form, change)
            return
        app = app_create(
            name=obj.name,
            organization=obj.organization,
            region=obj.region,
            stack=obj.stack,
            created_at=obj.created_at,
            actor=request.user,
            source=ADMIN,
        )
        adopt(obj, app)

    @admin.action(description="Enable a feature on the selected apps…")
    def enable_feature(self, request: HttpRequest, queryset: QuerySet[App]) -> Any:
        return self._feature_action(request, queryset, enabled=True)

    @admin.action(description="Disable a feature on the selected apps…")
    def disable_feature(self, request: HttpRequest, queryset: QuerySet[App]) -> Any:
        return self._feature_action(request, queryset, enabled=False)

    def _feature_action(
        self, request: HttpRequest, queryset: QuerySet[App], *, enabled: bool
    ) -> Any:
        """Ask for the feature and a reason, then switch it app by app through feature_set."""
        form = FeatureActionForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": f"{'Enable' if enabled else 'Disable'} a feature",
                "apps": queryset.order_by("name"),
                "form": form,
                "action": request.POST.get("action"),
                "enabled": enabled,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/dashboard/app/feature_action.html", context)
        feature, reason = form.cleaned_data["feature"], form.cleaned_data["reason"]
        changed = unchanged = 0
        for app in queryset.order_by("name"):
            try:
                result = feature_set(
                    app=app,
                    feature=feature,
                    enabled=enabled,
                    actor=request.user,
                    source=ADMIN,
                    reason=reason,
                )
            except (FeatureRefused, ValidationError, PermissionDenied) as error:
                message = error.messages[0] if isinstance(error, ValidationError) else str(error)
                self.message_user(request, f"Not changed on {app.name}: {message}", messages.ERROR)
                continue
            changed += int(result.changed)
            unchanged += int(not result.changed)
        verb = "Enabled" if enabled else "Disabled"
        self.message_user(
            request,
            f"{verb} {feature.name} on {changed} app(s); {unchanged} already were.",
            messages.SUCCESS,
        )
        return None


@admin.register(Domain)
class DomainAdmin(AuditedModelAdmin):
    list_display = ["hostname", "app", "kind", "edge", "dns_status", "dns_checked_at"]
    list_filter = ["kind", "dns_status", "edge"]
    search_fields = ["hostname", "app__name"]
    readonly_fields = ["uuid", "kind", "created_at", "updated_at"]
    autocomplete_fields = ["app", "edge"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The DNS check records what it saw and when.
        seen = ["dns_seen_target", "dns_checked_at"]
        return _readonly_once_created(self, request, obj, ["app", "hostname", *seen])

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A new domain's DNS is checked by the DNS check, not typed in.
        return ["dns_status", "dns_seen_target", "dns_checked_at"] if obj is None else []

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            domain_update(
                domain=obj,
                edge=obj.edge,
                dns_status=obj.dns_status,
                actor=request.user,
                source=ADMIN,
            )
            return
        domain = domain_add(
            app=obj.app, hostname=obj.hostname, edge=obj.edge, actor=request.user, source=ADMIN
        )
        adopt(obj, domain)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        domain_remove(domain=obj, actor=request.user, source=ADMIN)


@admin.register(Feature)
class FeatureAdmin(AuditedModelAdmin):
    list_display = ["name", "display_name", "state", "scope", "self_serve"]
    list_filter = ["state", "scope", "self_serve"]
    search_fields = ["name", "display_name", "description"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    # A documentation address typed without a scheme is an https one.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return _readonly_once_created(self, request, obj, ["name"])

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = {f: getattr(obj, f) for f in FEATURE_FIELDS}
        feature = feature_define(name=obj.name, actor=request.user, source=ADMIN, **fields)
        adopt(obj, feature)


class AppFeatureForm(forms.ModelForm):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the switch changes; kept in the app's audit trail.",
    )

    class Meta:
        model = AppFeature
        fields = ["app", "feature", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "feature" in self.fields:
            self.fields["feature"].queryset = Feature.objects.filter(scope=Feature.Scope.APP)


@admin.register(AppFeature)
class AppFeatureAdmin(AuditedModelAdmin):
    """Switches go through feature_set: its rules (websockets behind a legacy SSL edge), its
    audit row and its push. Deleting a switch is not offered: switch the feature instead."""

    form = AppFeatureForm
    list_display = ["app", "feature", "enabled", "updated_by", "updated_at"]
    list_filter = ["enabled", "feature"]
    search_fields = ["app__name", "feature__name"]
    autocomplete_fields = ["app"]
    readonly_fields = ["updated_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return _readonly_once_created(self, request, obj, ["app", "feature"])

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            change_ = feature_set(
                app=obj.app,
                feature=obj.feature,
                enabled=obj.enabled,
                actor=request.user,
                source=ADMIN,
                reason=form.cleaned_data.get("reason", ""),
            )
        except FeatureRefused as refused:
            blocking = ", ".join(edge.name for edge in refused.blocking_edges)
            raise ValidationError(
                {"enabled": f"{refused.message} Upgrade first: {blocking}."}
            ) from None
        if change_.row is not None:
            adopt(obj, change_.row)
        elif not change:
            # The app already had the feature in this state by default: nothing to store.
            raise ValidationError(
                {"enabled": f"{obj.feature.name} already is in this state on {obj.app.name}."}
            )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "actor_label",
        "source",
        "action",
        "target_label",
        "organization",
        "app",
    ]
    list_filter = ["source", "action", "organization"]
    search_fields = ["actor_label", "action", "target_label", "reason"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "label",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "label", "user__username"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in ApiToken._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token is shown once when created: use the token page or `manage.py api_token`.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoke instead: the row stays as the record of what the token was.
        return False

    @admin.action(description="Revoke the selected tokens…")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> Any:
        active = queryset.filter(revoked_at__isnull=True).select_related("user").order_by("pk")
        if not active.exists():
            self.message_user(request, "The selected tokens are revoked already.", messages.INFO)
            return None
        asked = confirmation(
            self,
            request,
            active,
            title="Revoke API tokens",
            warning="Revoke these tokens? Scripts and the Heroku CLI using them get 401 from "
            "their next request, and their owners cannot bring them back.",
            button="Revoke the tokens",
            items=[f"{t.prefix}… ({t.label}) of {t.user.get_username()}" for t in active],
        )
        if asked is not None:
            return asked
        count = 0
        for token in active:
            api_token_revoke(token=token, actor=request.user, source=ADMIN)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
        return None


@admin.register(Backend)
class BackendAdmin(AuditedModelAdmin):
    list_display = ["address", "app", "created_at"]
    list_filter = ["app__organization"]
    search_fields = ["app__name", "host"]
    autocomplete_fields = ["app"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return _readonly_once_created(self, request, obj, ["app"])

    def service_save(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().service_save(request, obj, form, change)
            return
        backend = backend_add(app=obj.app, address=obj.address, actor=request.user, source=ADMIN)
        adopt(obj, backend)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        backend_remove(backend=obj, actor=request.user, source=ADMIN)
