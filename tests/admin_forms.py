"""Driving the admin site's forms from tests the way a browser would."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.forms import SplitDateTimeWidget
from django.test import Client
from django.urls import reverse

# The live events sent: (event type, payload).
Pushed = list[tuple[str, dict[str, Any]]]


def url(obj: Model, view: str) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{view}", args=[obj.pk])


def form_data(client: Client, address: str) -> dict[str, Any]:
    """What the browser would send back for the form at `address`, unchanged."""
    response = client.get(address)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, SplitDateTimeWidget):
            day, time = field.widget.decompress(value)
            data[f"{name}_0"], data[f"{name}_1"] = day or "", time or ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is not None:
            data[name] = field.widget.format_value(value) if hasattr(value, "isoformat") else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
    return data
