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
