"""Users, organizations and memberships."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from dashboard.access import can_change_members, may_leave_without_owner
from dashboard.models import Membership, Organization
from dashboard.services.audit import audit_write
from shared import bus
from shared.validators import validate_username


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str,
    password: str | None,
    is_staff: bool = False,
    is_superuser: bool = False,
    actor: Any,
    source: str,
) -> AbstractUser:
    try:
        # Stricter than Django's own rule, which lets look-alike letters from any script in.
        validate_username(username)
    except ValidationError as invalid:
        raise ValidationError({"username": invalid.messages}) from None
    user_model = get_user_model()
    user = user_model(
        username=username, email=email, is_staff=is_staff or is_superuser, is_superuser=is_superuser
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_write(
        actor=actor,
        source=source,
        action="user.create",
        target=user,
        organization=None,
        after={
            "username": username,
            "email": email,
            "is_staff": user.is_staff,
            "is_superuser": is_superuser,
        },
    )
    return user


@transaction.atomic
def organization_create(
    *, name: str, display_name: str = "", actor: Any, source: str
) -> Organization:
    organization = Organization(name=name, display_name=display_name)
    organization.full_clean()
    organization.save()
    audit_write(
        actor=actor,
        source=source,
        action="organization.create",
        target=organization,
        organization=organization,
        after={"name": name, "display_name": display_name},
    )
    return organization


def _lock_members(*, organization: Organization, actor: Any) -> Organization:
    """Check the actor may change the organization's members and lock the organization, so
    that two changes at once cannot both take away its last owner."""
    if not can_change_members(actor, organization.pk):
        raise PermissionDenied("Only the organization's owners may change its members.")
    return Organization.objects.select_for_update().get(pk=organization.pk)


def _keep_an_owner(*, membership: Membership, actor: Any) -> None:
    """Refuse to take away the organization's last owner (demoted or removed)."""
    if membership.role != Membership.Role.OWNER or may_leave_without_owner(actor):
        return
    others = Membership.objects.filter(
        organization_id=membership.organization_id, role=Membership.Role.OWNER
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError(
            f"{membership.user.get_username()} is the last owner of "
            f"{membership.organization.name}: make someone else an owner first."
        )


@transaction.atomic
def membership_set(
    *, organization: Organization, user: Any, role: str, actor: Any, source: str
) -> Membership:
    """Add the user to the organization with the role, or change their role."""
    organization = _lock_members(organization=organization, actor=actor)
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Role must be one of {', '.join(Membership.Role.values)}."})
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "organization")
        .filter(organization=organization, user=user)
        .first()
    )
    before = {"role": membership.role} if membership else None
    if membership and membership.role == role:
        return membership
    if membership is None:
        membership = Membership(organization=organization, user=user, role=role)
    else:
        _keep_an_owner(membership=membership, actor=actor)
    membership.role = role
    membership.full_clean()
    membership.save()
    audit_write(
        actor=actor,
        source=source,
        action="membership.set",
        target=membership,
        organization=organization,
        before=before,
        after={"user": user.get_username(), "role": role},
    )
    # What the user's open pages may show changed: their sockets check again.
    bus.announce_on_commit("access.changed", {"user": user.pk})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Any, source: str) -> None:
    """Take the user out of the organization; their open live pages check access again."""
    _lock_members(organization=membership.organization, actor=actor)
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "organization")
        .get(pk=membership.pk)
    )
    _keep_an_owner(membership=membership, actor=actor)
    audit_write(
        actor=actor,
        source=source,
        action="membership.delete",
        target=membership,
        organization=membership.organization,
        before={"label": str(membership)},
    )
    membership.delete()
    # The user may have lost sight of apps: their live sockets re-check access.
    bus.announce_on_commit("access.changed", {"user": membership.user_id})


def session_closed(*, user_id: int, session_key: str) -> None:
    """A browser session signed out: the live sockets it opened close (nothing to write)."""
    bus.announce("access.changed", {"user": user_id, "session": session_key})


@transaction.atomic
def user_password_set(*, user: Any, password: str | None, actor: Any, source: str) -> Any:
    """Set the user's password, or none (None: they cannot sign in with one). The audit row says
    only that it changed; the user's other sessions' sockets check their access again."""
    user = type(user).objects.select_for_update().get(pk=user.pk)
    before = {"usable_password": user.has_usable_password()}
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    audit_write(
        actor=actor,
        source=source,
        action="user.password_set",
        target=user,
        organization=None,
        before=before,
        after={"usable_password": password is not None},
    )
    bus.announce_on_commit("access.changed", {"user": user.pk})
    return user
