"""Organizations and their members, and who may see what."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse

from shared.validators import (
    clean_text_fields,
    validate_line,
    validate_org_name,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def is_customer(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and not user.is_staff)


def sees_everything(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def member_org_ids(user: Any) -> models.QuerySet[Any]:
    """The ids of the organizations the user belongs to, as a subquery."""
    return Membership.objects.filter(user=user).values("organization_id")


def visible_organization_ids(user: Any) -> frozenset[int] | None:
    """The organizations whose apps the user may see, read now (None: every one, for staff);
    the same rule as `visible_to`, for lists built from memory."""
    if sees_everything(user):
        return None
    if is_customer(user):
        return frozenset(member_org_ids(user).values_list("organization_id", flat=True))
    return frozenset()


def users_visible_to(user: Any) -> models.QuerySet[Any]:
    """The active people the user may see: everyone, for staff; for a customer, themselves and
    the members of their organizations."""
    people = get_user_model().objects.filter(is_active=True)
    if sees_everything(user):
        return people
    if is_customer(user):
        mates = models.Q(memberships__organization_id__in=member_org_ids(user))
        return people.filter(mates | models.Q(pk=user.pk)).distinct()
    return people.none()


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def visible_to(self, user: AnyUser) -> OrganizationQuerySet:
        if sees_everything(user):
            return self
        if is_customer(user):
            return self.filter(id__in=member_org_ids(user))
        return self.none()


class Organization(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=30, unique=True, validators=[validate_org_name])
    display_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organization-detail", args=[self.name])

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        checks = {"display_name": lambda v: validate_line(v, what="The display name")}
        clean_text_fields(self, exclude, super().clean_fields, checks)

    @property
    def label(self) -> str:
        return self.display_name or self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organization}"
