from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from dashboard.services.admin_edits import admin_model_delete, admin_model_save


class AuditedModelAdmin(admin.ModelAdmin):
    """Admin edits go through the audited save and delete services."""

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        admin_model_save(
            instance=obj,
            changed_fields=list(form.changed_data),
            created=not change,
            actor=request.user,
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        admin_model_delete(instance=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            admin_model_delete(instance=obj, actor=request.user)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: Any, change: bool
    ) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            admin_model_delete(instance=obj, actor=request.user)
        changed = {id(f.instance): list(f.changed_data) for f in formset.forms}
        for obj in instances:
            admin_model_save(
                instance=obj,
                changed_fields=changed.get(id(obj), []),
                created=obj._state.adding,
                actor=request.user,
            )
        formset.save_m2m()
