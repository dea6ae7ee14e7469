"""People in the admin site: created, changed and given passwords through the account services."""

from __future__ import annotations

import contextvars
from typing import Any

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import Group, User
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse

from dashboard.admin.base import AuditedModelAdmin, adopt
from dashboard.models import AuditEvent
from dashboard.services.accounts import user_create, user_password_set
from dashboard.services.admin_edits import admin_model_save
from shared.validators import validate_line, validate_username

# Who is changing a password in this request: the password form has no request of its own.
_password_actor: contextvars.ContextVar[Any] = contextvars.ContextVar("password_actor")


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


class PasswordForm(auth_forms.AdminPasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        usable = self.cleaned_data.get("set_usable_password", True)
        return user_password_set(
            user=self.user,
            password=self.cleaned_data["password1"] if usable else None,
            actor=_password_actor.get(),
            source=AuditEvent.Source.ADMIN,
        )


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedModelAdmin, auth_admin.GroupAdmin):
    def service_save(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        many = {"permissions"} & set(form.changed_data)
        admin_model_save(
            instance=obj,
            changed_fields=list(form.changed_data),
            created=not change,
            actor=request.user,
            values={f: sorted(str(v) for v in form.cleaned_data[f]) for f in many},
        )


@admin.register(User)
class UserAdmin(AuditedModelAdmin, auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = PasswordForm

    def service_save(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if not change:
            usable = form.cleaned_data.get("usable_password") != "false"
            created = user_create(
                username=obj.username,
                email=obj.email,
                password=form.cleaned_data.get("password1") if usable else None,
                actor=request.user,
                source=AuditEvent.Source.ADMIN,
            )
            adopt(obj, created)
            return
        many = {"groups", "user_permissions"} & set(form.changed_data)
        admin_model_save(
            instance=obj,
            changed_fields=list(form.changed_data),
            created=False,
            actor=request.user,
            values={f: sorted(str(v) for v in form.cleaned_data[f]) for f in many},
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        token = _password_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)
