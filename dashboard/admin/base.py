"""The admin site's doors to the services: every save and delete of a ModelAdmin goes through
the service that owns the model, with its rules, its audit row and its live push."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import BaseForm, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from dashboard.services.admin_edits import admin_model_delete, admin_model_save

# Set on the request when the service refused the save it had accepted on trial (a concurrent
# change in between): the admin shows the form again instead of "changed successfully".
REFUSED = "_edgeboard_service_refused"


class _TrialOnly(Exception):
    """Raised inside the trial save to roll it back."""


def show_refusal(form: BaseForm, refusal: ValidationError) -> None:
    """The service's message on the form's field it names, else above the form."""
    if hasattr(refusal, "error_dict"):
        for field, errors in refusal.error_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            form.add_error(target, errors)
    else:
        form.add_error(None, refusal)


def adopt(obj: Model, saved: Model) -> None:
    """Let the admin's object stand for the row a service created (for its redirect and log)."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


def refusal_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def confirmation(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    title: str,
    warning: str,
    button: str,
    items: list[str] | None = None,
) -> TemplateResponse | None:
    """Django's intermediate page for a destructive action: it names what will happen and to
    which rows, and sends the action again with `confirmed=yes`. None once confirmed."""
    if request.POST.get("confirmed") == "yes":
        return None
    objects = list(queryset)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "warning": warning,
        "button": button,
        "rows": list(zip(objects, items or [str(obj) for obj in objects], strict=True)),
        "action": request.POST.get("action", ""),
        "opts": model_admin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "changelist_url": request.get_full_path(),
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)


class AuditedModelAdmin(admin.ModelAdmin):
    """Saves and deletes go through `service_save` and `service_delete`; by default the generic
    audited ones, overridden where a model has a service of its own.

    The form runs the save on trial in a savepoint that is rolled back, so a rule the service
    enforces shows up as a form error on the field it names, and nothing is changed."""

    def service_save(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        admin_model_save(
            instance=obj,
            changed_fields=list(form.changed_data),
            created=not change,
            actor=request.user,
        )

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        admin_model_delete(instance=obj, actor=request.user)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm]:
        base = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class TriedForm(base):  # type: ignore[valid-type, misc]
            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                try:
                    with transaction.atomic():
                        trial = copy.copy(self.instance)
                        model_admin.service_save(request, trial, self, change)
                        raise _TrialOnly
                except _TrialOnly:
                    pass
                except ValidationError as refusal:
                    show_refusal(self, refusal)

        TriedForm.__name__ = base.__name__
        return TriedForm

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        try:
            self.service_save(request, obj, form, change)
        except ValidationError as refusal:
            transaction.set_rollback(True)
            setattr(request, REFUSED, True)
            self.message_user(request, f"Not saved: {refusal_text(refusal)}", messages.ERROR)

    def response_add(self, request: HttpRequest, obj: Model, *args: Any) -> HttpResponse:
        if getattr(request, REFUSED, False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, *args)

    def response_change(self, request: HttpRequest, obj: Model) -> HttpResponse:
        if getattr(request, REFUSED, False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.service_delete(request, obj)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as refusal:
            self.message_user(request, f"Not deleted: {refusal_text(refusal)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path().replace("/delete/", "/change/"))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            try:
                self.service_delete(request, obj)
            except ValidationError as refusal:
                self.message_user(
                    request, f"{obj} not deleted: {refusal_text(refusal)}", messages.ERROR
                )


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, edited on their own admin page (through their service)."""

    extra = 0
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields or [])

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
