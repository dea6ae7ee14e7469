"""The feature catalog and switching features on apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from dashboard import access
from dashboard.models import AccountFeature, App, AppFeature, Domain, Feature
from dashboard.models.features import WEBSOCKETS, feature_default
from dashboard.services.audit import audit_write
from shared import bus
from shared.validators import validate_text

FEATURE_FIELDS = (
    "display_name",
    "description",
    "doc_url",
    "feedback_email",
    "state",
    "scope",
    "self_serve",
)

SSL_ENDPOINT_REFUSAL = "Can not add websockets feature when ssl-endpoint is in use."


@transaction.atomic
def feature_define(*, name: str, actor: Any, source: str, **fields: Any) -> Feature:
    """Create a catalog entry or bring an existing one up to date; no change writes nothing."""
    unknown = set(fields) - set(FEATURE_FIELDS)
    if unknown:
        raise TypeError(f"unknown feature fields: {', '.join(sorted(unknown))}")
    feature = Feature.objects.select_for_update().filter(name=name).first()
    before = {f: getattr(feature, f) for f in FEATURE_FIELDS} if feature else None
    if feature is None:
        feature = Feature(name=name)
    for name_, value in fields.items():
        setattr(feature, name_, value)
    after = {f: getattr(feature, f) for f in FEATURE_FIELDS}
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


class FeatureRefused(ValidationError):
    """A rule forbids the change; `blocking_edges` are what must be upgraded first."""

    def __init__(self, message: str, *, blocking_edges: list[Any] | None = None) -> None:
        super().__init__(message, code="refused")
        self.blocking_edges = blocking_edges or []


def legacy_ssl_edges(app: App) -> list[Any]:
    """The edges that keep websockets off the app: those carrying its custom domains that block
    WebSockets (`Edge.blocks_websockets`, a custom SSL edge on the legacy Nginx build)."""
    domains = app.domains.filter(kind=Domain.Kind.CUSTOM).select_related("edge")
    return sorted({d.edge for d in domains if d.edge.blocks_websockets}, key=lambda e: e.name)


def feature_refusal(app: App, feature: Feature, enabled: bool) -> FeatureRefused | None:
    """Why the platform cannot make this change, whoever asks; None when it can."""
    if enabled and feature.name == WEBSOCKETS:
        blocking = legacy_ssl_edges(app)
        if blocking:
            return FeatureRefused(SSL_ENDPOINT_REFUSAL, blocking_edges=blocking)
    return None


def feature_permission_error(
    actor: Any, app: App, feature: Feature, reason: str
) -> PermissionDenied | ValidationError | None:
    """Members switch their own self-serve features; staff switch anything, with a reason."""
    if not access.can_switch_feature(actor, app, feature):
        return PermissionDenied("Only support staff can change this feature.")
    own_switch = feature.self_serve and access.is_member(actor, app.organization_id)
    if access.reason_required(actor) and not own_switch and not reason.strip():
        return ValidationError(
            {"reason": "Support staff must give a reason; it is kept in the audit trail."},
            code="reason_required",
        )
    return None


@dataclass
class FeatureChange:
    app: App
    feature: Feature
    enabled: bool
    changed: bool
    row: AppFeature | None = field(default=None, repr=False)


@transaction.atomic
def feature_set(
    *,
    app: App,
    feature: Feature,
    enabled: bool,
    actor: Any,
    source: str,
    reason: str = "",
    reason_shared: bool | None = None,
) -> FeatureChange:
    """Switch an app-scope feature on or off. `reason_shared`: whether the app's organization
    may read the reason (by default only when one of its members gave it).

    Locks the app so concurrent switches of one app serialise; setting the state it already
    has is a successful no-op that writes no audit row.
    """
    if feature.scope != Feature.Scope.APP:
        raise ValidationError(f"{feature.name} is an account feature, not an app feature.")
    reason = validate_text(reason, what="The reason").strip()
    denied = feature_permission_error(actor, app, feature, reason)
    if denied is not None:
        raise denied
    app = App.objects.select_for_update().select_related("organization").get(pk=app.pk)
    row = AppFeature.objects.filter(app=app, feature=feature).first()
    current = row.enabled if row else feature_default(feature, app)
    if current == enabled:
        return FeatureChange(app=app, feature=feature, enabled=enabled, changed=False, row=row)
    refusal = feature_refusal(app, feature, enabled)
    if refusal is not None:
        raise refusal
    if row is None:
        row = AppFeature(app=app, feature=feature)
    row.enabled = enabled
    row.updated_by = actor
    row.save()
    audit_write(
        actor=actor,
        source=source,
        action="feature.enable" if enabled else "feature.disable",
        target=app,
        organization=app.organization,
        app=app,
        before={"feature": feature.name, "enabled": current},
        after={"feature": feature.name, "enabled": enabled},
        reason=reason,
        reason_shared=reason_shared,
    )
    bus.announce_on_commit(
        "feature.changed",
        {
            "app": app.name,
            "organization": app.organization.name,
            "feature": feature.name,
            "enabled": enabled,
        },
    )
    return FeatureChange(app=app, feature=feature, enabled=enabled, changed=True, row=row)


@transaction.atomic
def account_feature_set(
    *, user: Any, feature: Feature, enabled: bool, actor: Any, source: str, reason: str = ""
) -> bool:
    """Switch an account-scope feature for a user: their own self-serve ones, or staff with a
    reason. Answers whether anything changed."""
    if feature.scope != Feature.Scope.ACCOUNT:
        raise ValidationError(f"{feature.name} is an app feature, not an account feature.")
    reason = validate_text(reason, what="The reason").strip()
    if not access.can_switch_account_feature(actor, user, feature):
        raise PermissionDenied("Only support staff can change this feature.")
    own_switch = actor is not None and actor.pk == user.pk and feature.self_serve
    if actor is not None and not own_switch and not reason:
        raise ValidationError(
            {"reason": "Support staff must give a reason; it is kept in the audit trail."},
            code="reason_required",
        )
    user_model = type(user)
    user = user_model.objects.select_for_update().get(pk=user.pk)
    row = AccountFeature.objects.filter(user=user, feature=feature).first()
    current = row.enabled if row else False
    if current == enabled:
        return False
    if row is None:
        row = AccountFeature(user=user, feature=feature)
    row.enabled = enabled
    row.save()
    audit_write(
        actor=actor,
        source=source,
        action="account_feature.enable" if enabled else "account_feature.disable",
        target=user,
        organization=None,
        before={"feature": feature.name, "enabled": current},
        after={"feature": feature.name, "enabled": enabled},
        reason=reason,
    )
    return True
