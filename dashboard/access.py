"""Who may change what: the one home of write permissions.

Services enforce these (and raise PermissionDenied); views and templates only display from them
(a switch, a button). Who may *see* what is the other half of the rule, the `visible_to` query
of each model. An actor of None is the platform itself (a management command, the rollout).
"""

from __future__ import annotations

from typing import Any

from dashboard.models import App, Feature, Membership


def is_support(user: Any) -> bool:
    """Support staff: see everything and change anything, with a reason where one is asked."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def is_member(user: Any, organization_id: int | None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active or organization_id is None:
        return False
    return Membership.objects.filter(user=user, organization_id=organization_id).exists()


def is_owner(user: Any, organization_id: int | None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active or organization_id is None:
        return False
    return Membership.objects.filter(
        user=user, organization_id=organization_id, role=Membership.Role.OWNER
    ).exists()


def _platform_or_support(actor: Any) -> bool:
    return actor is None or is_support(actor)


def can_switch_feature(actor: Any, app: App, feature: Feature) -> bool:
    """Members switch their own apps' self-serve features; support switches any feature."""
    if _platform_or_support(actor):
        return True
    return feature.self_serve and is_member(actor, app.organization_id)


def can_switch_account_feature(actor: Any, user: Any, feature: Feature) -> bool:
    """People switch their own self-serve account features; support switches anyone's."""
    if _platform_or_support(actor):
        return True
    return bool(actor.pk == user.pk and feature.self_serve and actor.is_active)


def reason_required(actor: Any) -> bool:
    """Support staff give a reason for a change they make for a customer (kept in the audit)."""
    return is_support(actor)


def can_change_domains(actor: Any, app: App) -> bool:
    """Members of the app's organization, and support."""
    return _platform_or_support(actor) or is_member(actor, app.organization_id)


def can_restore_token(actor: Any, token: Any, revoked_by_id: int | None) -> bool:
    """Undoing a token's revocation: only its owner, and only when they revoked it themselves
    (a revocation by support or the platform may answer a leak: it stays)."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    return actor.pk == token.user_id == revoked_by_id


def can_change_members(actor: Any, organization_id: int | None) -> bool:
    """Who belongs to an organization, and as what: its owners, and support."""
    return _platform_or_support(actor) or is_owner(actor, organization_id)


def may_leave_without_owner(actor: Any) -> bool:
    """An organization keeps an owner whoever changes its members; only the platform itself (a
    command closing an organization) may take its last one away."""
    return actor is None


# What a member may do to an app of their organization, in the names Heroku gives a team app's
# permissions. Every member, whatever their role, may do all three (see the rules above); roles
# differ only in who may change the organization's members.
APP_PERMISSIONS = {
    "view": "See the app, its domains, its features and its live connections.",
    "operate": "Switch the app's self-serve features, such as websockets.",
    "manage": "Add and remove the app's custom domains.",
}


def member_app_permissions(role: str) -> list[str]:
    """The permissions a member with this role holds on each app of their organization."""
    return sorted(APP_PERMISSIONS) if role in Membership.Role.values else []


def can_change_backends(actor: Any) -> bool:
    """Support only: back-ends are where the platform runs the app."""
    return _platform_or_support(actor)


def can_request_upgrade(actor: Any, organization_id: int | None) -> bool:
    """Members of the organization a custom SSL edge belongs to, and support."""
    return _platform_or_support(actor) or is_member(actor, organization_id)


def can_step_upgrade(actor: Any) -> bool:
    """Scheduling, starting, completing, failing, retrying or cancelling: support only."""
    return _platform_or_support(actor)


def can_read_proxy_config(user: Any) -> bool:
    """The rendered proxy configuration names every back-end address: support only."""
    return is_support(user)


def can_search_platform(user: Any) -> bool:
    """The support search, the upgrade queue and the staff overview socket."""
    return is_support(user)
