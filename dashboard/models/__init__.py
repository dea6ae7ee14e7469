"""The customer-facing domain: organizations and members, apps with their domains and back-ends,
the feature catalog, the audit trail and API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dashboard.models.apps import App, Backend, Domain
from dashboard.models.audit import AuditEvent
from dashboard.models.features import AccountFeature, AppFeature, Feature
from dashboard.models.organizations import (
    Membership,
    Organization,
    member_org_ids,
    users_visible_to,
    visible_organization_ids,
)
from dashboard.models.preferences import Preferences
from dashboard.models.tokens import ApiToken, IdempotencyKey

if TYPE_CHECKING:
    from dashboard.models.organizations import AnyUser as AnyUser

__all__ = [
    "AccountFeature",
    "ApiToken",
    "App",
    "AppFeature",
    "AuditEvent",
    "Backend",
    "Domain",
    "Feature",
    "IdempotencyKey",
    "Membership",
    "Organization",
    "Preferences",
    "member_org_ids",
    "users_visible_to",
    "visible_organization_ids",
]
