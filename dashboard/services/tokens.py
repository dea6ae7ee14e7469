"""Personal API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard import access
from dashboard.models import ApiToken
from dashboard.services.audit import audit_write
from dashboard.services.undo import check_window, last_change, within_window
from shared.secret_tokens import generate_token
from shared.validators import validate_line

# What the token page offers: never, or a number of days from now (else a date of one's own).
EXPIRY_CHOICES = {"never": None, "30": 30, "90": 90}


def token_expiry(choice: str, date: str = "", now: dt.datetime | None = None) -> dt.datetime | None:
    """When a token chosen to expire `choice` (`never`, `30`, `90` days, or `date`: the end of
    that day, UTC) stops working."""
    now = now or timezone.now()
    if choice in EXPIRY_CHOICES:
        days = EXPIRY_CHOICES[choice]
        return None if days is None else now + dt.timedelta(days=days)
    if choice != "date":
        raise ValidationError({"expires": "Choose when the token expires."})
    try:
        day = dt.date.fromisoformat(date.strip())
    except ValueError:
        raise ValidationError({"expires_on": "Give the expiry date as YYYY-MM-DD."}) from None
    if day < now.astimezone(dt.UTC).date():
        raise ValidationError({"expires_on": "Choose a date from today on."})
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


@transaction.atomic
def api_token_create(
    *,
    user: Any,
    label: str,
    expires_at: dt.datetime | None = None,
    actor: Any,
    source: str,
) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned here once and never stored."""
    label = validate_line(label, what="The label").strip()
    if not label:
        raise ValidationError({"label": "Give the token a label, e.g. what will use it."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_on": "A new token must expire in the future."})
    new = generate_token("pat")
    token = ApiToken(
        user=user, label=label, prefix=new.prefix, token_hash=new.digest, expires_at=expires_at
    )
    token.full_clean()
    token.save()
    after = {"user": user.get_username(), "label": label, "prefix": new.prefix}
    if expires_at is not None:
        after["expires_at"] = expires_at.isoformat()
    audit_write(
        actor=actor,
        source=source,
        action="api_token.create",
        target=token,
        organization=None,
        after=after,
    )
    return token, new.raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Any, source: str) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_write(
        actor=actor,
        source=source,
        action="api_token.revoke",
        target=token,
        organization=None,
        before={"revoked": False},
        after={"revoked": True},
    )
    return token


def revoked_by(token: ApiToken) -> int | None:
    """Who revoked the token (a user's id; None for the platform, or while it is not revoked)."""
    if token.revoked_at is None:
        return None
    change = last_change("apitoken", token.pk)
    if change is None or change.action != "api_token.revoke":
        return None
    return change.actor_id


def may_restore(user: Any, token: ApiToken) -> bool:
    """Whether the page offers `user` to undo the token's revocation: for a short while, to
    the person who revoked their own token."""
    return (
        token.revoked_at is not None
        and within_window(token.revoked_at)
        and not token.is_expired
        and access.can_restore_token(user, token, revoked_by(token))
    )


@transaction.atomic
def api_token_restore(*, token: ApiToken, actor: Any, source: str) -> ApiToken:
    """Undo a revocation for a short while: the same token (the same hash) works again. Only
    the person who revoked their own token may, so a revocation by support stays."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    name = f"The revocation of {token.prefix}…"
    if token.revoked_at is None:
        raise ValidationError(f"{token.prefix}… is not revoked.", code="not_revoked")
    if not access.can_restore_token(actor, token, revoked_by(token)):
        raise PermissionDenied(f"Only the person who revoked {token.prefix}… can undo it.")
    check_window(token.revoked_at, name)
    if token.is_expired:
        raise ValidationError(f"{token.prefix}… has expired since: create a new token.")
    if not token.user.is_active:
        raise ValidationError(f"The account of {token.prefix}… is deactivated.")
    before = {"revoked": True, "revoked_at": token.revoked_at.isoformat()}
    token.revoked_at = None
    token.save(update_fields=["revoked_at"])
    audit_write(
        actor=actor,
        source=source,
        action="api_token.restore",
        target=token,
        organization=None,
        before=before,
        after={"revoked": False},
    )
    return token


# Record a token's last use at most this often, so reads do not write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def api_token_mark_used(*, token: ApiToken) -> None:
    """Bookkeeping, not a change anyone audits: one conditional UPDATE, no lock."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at <= LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
