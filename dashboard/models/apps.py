"""Apps, their domains and their back-ends."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from dashboard.models.organizations import (
    Organization,
    is_customer,
    member_org_ids,
    sees_everything,
)
from shared.validators import (
    clean_text_fields,
    validate_app_name,
    validate_hostname,
    validate_line,
)

if TYPE_CHECKING:
    from dashboard.models.organizations import AnyUser


class AppQuerySet(models.QuerySet["App"]):
    def visible_to(self, user: AnyUser) -> AppQuerySet:
        if sees_everything(user):
            return self
        if is_customer(user):
            return self.filter(organization_id__in=member_org_ids(user))
        return self.none()


class App(models.Model):
    class Region(models.TextChoices):
        US = "us", "United States"
        EU = "eu", "Europe"

    class Stack(models.TextChoices):
        CEDAR = "cedar", "cedar"
        CEDAR_14 = "cedar-14", "cedar-14"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=30, unique=True, validators=[validate_app_name])
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="apps")
    region = models.CharField(max_length=8, choices=Region.choices, default=Region.US)
    stack = models.CharField(max_length=16, choices=Stack.choices, default=Stack.CEDAR_14)
    # Not auto_now_add: apps created before the WebSocket GA date behave differently, and the
    # demo and imports need to set it.
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("app-detail", args=[self.name])

    @property
    def default_hostname(self) -> str:
        return f"{self.name}.{settings.PLATFORM_DOMAIN}"

    @property
    def web_url(self) -> str:
        return f"https://{self.default_hostname}/"


class DomainQuerySet(models.QuerySet["Domain"]):
    def count_per(self, field: str) -> Coalesce:
        """These domains counted per row of an outer query on apps (`field="app"`) or edges
        (`field="edge"`), for `.annotate(domain_count=...)`. A correlated count is evaluated for
        the rows fetched only, where a join with GROUP BY would count every row's domains first.
        """
        counts = (
            self.filter(**{field: OuterRef("pk")})
            .order_by()
            .values(field)
            .annotate(count=Count("pk"))
            .values("count")
        )
        return Coalesce(Subquery(counts[:1]), 0)

    def visible_to(self, user: AnyUser) -> DomainQuerySet:
        return self.filter(app__in=App.objects.visible_to(user))

    def carried_by(self, edge: Any) -> DomainQuerySet:
        """The domains an edge may report: a custom SSL edge its own, a shared gateway those of
        every shared gateway. Any other hostname is unknown to it, so one organization's edge can
        neither feed nor probe another organization's numbers."""
        if edge.kind == edge.Kind.CUSTOM_SSL:
            return self.filter(edge=edge)
        return self.filter(edge__kind=edge.Kind.GATEWAY)


class Domain(models.Model):
    class Kind(models.TextChoices):
        DEFAULT = "default", "Default"
        CUSTOM = "custom", "Custom"

    class DnsStatus(models.TextChoices):
        PENDING = "pending", "Not checked yet"
        OK = "ok", "OK"
        UPDATE_REQUIRED = "dns_update_required", "DNS update required"
        UNRESOLVABLE = "unresolvable", "Unresolvable"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hostname = models.CharField(
        max_length=253,
        unique=True,
        validators=[validate_hostname],
        error_messages={"unique": "This domain is already in use by an app."},
    )
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="domains")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CUSTOM)
    edge = models.ForeignKey("edges.Edge", on_delete=models.PROTECT, related_name="domains")
    dns_status = models.CharField(
        max_length=24, choices=DnsStatus.choices, default=DnsStatus.PENDING
    )
    # Where the CNAME pointed at the last check, when it was not the edge's hostname.
    dns_seen_target = models.CharField(max_length=253, blank=True)
    dns_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DomainQuerySet.as_manager()

    class Meta:
        ordering = ["app__name", "kind", "hostname"]
        constraints = [
            models.UniqueConstraint(
                fields=["app"], condition=Q(kind="default"), name="domain_one_default_per_app"
            )
        ]

    def __str__(self) -> str:
        return self.hostname

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        checks = {"dns_seen_target": lambda v: validate_line(v, what="The DNS target")}
        clean_text_fields(self, exclude, super().clean_fields, checks)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        platform = settings.PLATFORM_DOMAIN
        app = self.app if self.app_id else None
        if self.kind == self.Kind.DEFAULT and app and self.hostname != app.default_hostname:
            errors["hostname"] = f"The default domain of {app.name} is {app.default_hostname}."
        if self.kind == self.Kind.CUSTOM and (
            self.hostname == platform or self.hostname.endswith("." + platform)
        ):
            errors["hostname"] = f"Custom domains cannot be under {platform}."
        edge = self.edge if self.edge_id else None
        if edge and app and edge.organization_id not in (None, app.organization_id):
            errors["edge"] = f"Edge {edge.name} belongs to another organization."
        if edge and self.kind == self.Kind.DEFAULT and edge.organization_id is not None:
            errors["edge"] = "Default domains are routed through a shared gateway."
        if errors:
            raise ValidationError(errors)

    @classmethod
    def edge_manager(cls) -> Any:
        """The edges' manager (`edges.Edge`), through the relation declared above by label: the
        edges package builds on this one, so this package reaches the routing rules it keeps
        (`gateway_for`, `route_for`) this way and never imports it."""
        return cls._meta.get_field("edge").related_model.objects


class BackendQuerySet(models.QuerySet["Backend"]):
    def visible_to(self, user: AnyUser) -> BackendQuerySet:
        return self.filter(app__in=App.objects.visible_to(user))

    def at(self, address: str) -> Backend | None:
        """The back-end with this host:port, or None (also for an address that cannot be one)."""
        from shared.validators import parse_backend_address

        try:
            host, port = parse_backend_address(address)
        except ValidationError:
            return None
        return self.filter(host=host, port=port).first()


class Backend(models.Model):
    """One of the app's web processes: the address the edges route its hostnames to."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="backends")
    host = models.GenericIPAddressField(unpack_ipv4=True)
    port = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(65535)])
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BackendQuerySet.as_manager()

    class Meta:
        ordering = ["app__name", "host", "port"]
        constraints = [
            models.UniqueConstraint(fields=["app", "host", "port"], name="backend_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.address} of {self.app.name}"

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
