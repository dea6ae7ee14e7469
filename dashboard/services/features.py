"""The feature catalog."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dashboard.models import Feature
from dashboard.services.audit import audit_write

_FIELDS = (
    "display_name",
    "description",
    "doc_url",
    "feedback_email",
    "state",
    "scope",
    "self_serve",
)


@transaction.atomic
def feature_define(*, name: str, actor: Any, source: str, **fields: Any) -> Feature:
    """Create a catalog entry or bring an existing one up to date; no change writes nothing."""
    unknown = set(fields) - set(_FIELDS)
    if unknown:
        raise TypeError(f"unknown feature fields: {', '.join(sorted(unknown))}")
    feature = Feature.objects.select_for_update().filter(name=name).first()
    before = {f: getattr(feature, f) for f in _FIELDS} if feature else None
    if feature is None:
        feature = Feature(name=name)
    for field, value in fields.items():
        setattr(feature, field, value)
    after = {f: getattr(feature, f) for f in _FIELDS}
    if before == after:
        return feature
    feature.full_clean()
    feature.save()
    audit_write(
        actor=actor,
        source=source,
        action="feature.define",
        target=feature,
        organization=None,
        before=before,
        after=after,
    )
    return feature
