"""Personal API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.models import ApiToken
from dashboard.services.audit import audit_write
from shared.secret_tokens import generate_token
from shared.validators import validate_line


@transaction.atomic
def api_token_create(*, user: Any, label: str, actor: Any, source: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned here once and never stored."""
    label = validate_line(label, what="The label").strip()
    if not label:
        raise ValidationError({"label": "Give the token a label, e.g. what will use it."})
    new = generate_token("pat")
    token = ApiToken(user=user, label=label, prefix=new.prefix, token_hash=new.digest)
    token.full_clean()
    token.save()
    audit_write(
        actor=actor,
        source=source,
        action="api_token.create",
        target=token,
        organization=None,
        after={"user": user.get_username(), "label": label, "prefix": new.prefix},
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


# Record a token's last use at most this often, so reads do not write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def api_token_mark_used(*, token: ApiToken) -> None:
    """Bookkeeping, not a change anyone audits: one conditional UPDATE, no lock."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at <= LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
