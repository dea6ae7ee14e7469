from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from dashboard.admin.base import AuditedModelAdmin
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
from dashboard.services.features import FeatureRefused, feature_set
from dashboard.services.tokens import api_token_revoke
from shared.validators import validate_line, validate_username


class _PeopleNameChecks:
    """Usernames and display names follow the dashboard's rules, not only Django's."""

    cleaned_data: dict[str, Any]

    def clean_username(self) -> str:
        parent = getattr(super(), "clean_username", None)
        username = parent() if parent else self.cleaned_data["username"]
        validate_username(username)
        return username

    def clean_first_name(self) -> str:
        return validate_line(self.cleaned_data["first_name"], what="The first name")

    def clean_last_name(self) -> str:
        return validate_line(self.cleaned_data["last_name"], what="The last name")


class UserChangeForm(_PeopleNameChecks, auth_forms.UserChangeForm):
    pass


class UserCreationForm(_PeopleNameChecks, auth_forms.AdminUserCreationForm):
    pass


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    list_display = ["name", "display_name", "created_at"]
    search_fields = ["name", "display_name"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["hostname", "kind", "edge", "dns_status"]
    autocomplete_fields = ["edge"]


class BackendInline(admin.TabularInline):
    model = Backend
    extra = 0
    fields = ["host", "port", "created_at"]
    readonly_fields = ["created_at"]


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
                    source=AuditEvent.Source.ADMIN,
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
    readonly_fields = ["uuid", "created_at", "updated_at"]
    autocomplete_fields = ["app", "edge"]


@admin.register(Feature)
class FeatureAdmin(AuditedModelAdmin):
    list_display = ["name", "display_name", "state", "scope", "self_serve"]
    list_filter = ["state", "scope", "self_serve"]
    search_fields = ["name", "display_name", "description"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    # A documentation address typed without a scheme is an https one.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(AppFeature)
class AppFeatureAdmin(AuditedModelAdmin):
    list_display = ["app", "feature", "enabled", "updated_by", "updated_at"]
    list_filter = ["enabled", "feature"]
    search_fields = ["app__name", "feature__name"]
    autocomplete_fields = ["app"]
    readonly_fields = ["updated_by", "created_at", "updated_at"]


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
    list_display = ["prefix", "user", "label", "created_at", "last_used_at", "revoked_at"]
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

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, actor=request.user, source=AuditEvent.Source.ADMIN)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


@admin.register(Backend)
class BackendAdmin(AuditedModelAdmin):
    list_display = ["address", "app", "created_at"]
    list_filter = ["app__organization"]
    search_fields = ["app__name", "host"]
    autocomplete_fields = ["app"]
