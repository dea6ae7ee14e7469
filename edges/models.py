"""Edges (the load balancers carrying apps' traffic) and the certificates of custom SSL edges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dashboard.models import member_org_ids
from edges.capabilities import Capabilities, capabilities_of
from shared.validators import (
    clean_text_fields,
    validate_certificate_name,
    validate_edge_name,
    validate_hostname,
    validate_line,
)

if TYPE_CHECKING:
    from dashboard.models import AnyUser

_PORT = [MinValueValidator(1), MaxValueValidator(65535)]


def stale_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Edges that last reported before this moment are stale: shown, but left out of totals."""
    return (now or timezone.now()) - dt.timedelta(seconds=settings.EDGE_STALE_AFTER)


class EdgeQuerySet(models.QuerySet["Edge"]):
    def visible_to(self, user: AnyUser) -> EdgeQuerySet:
        """Staff see every edge; customers see the shared gateways and their own SSL edges."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_staff:
            return self
        return self.filter(Q(kind=Edge.Kind.GATEWAY) | Q(organization_id__in=member_org_ids(user)))

    def stale(self) -> EdgeQuerySet:
        return self.filter(Q(last_report_at__isnull=True) | Q(last_report_at__lt=stale_cutoff()))

    def gateway_for(self, region: str) -> Edge:
        """The shared gateway of the region (else the first one): where default domains go."""
        gateways = self.filter(kind=Edge.Kind.GATEWAY).order_by("name")
        gateway = gateways.filter(region=region).first() or gateways.first()
        if gateway is None:
            raise ValidationError("There is no shared gateway to route the app's default domain.")
        return gateway

    def route_for(self, *, organization_id: int, region: str, hostname: str) -> Edge:
        """Where a custom domain goes: the organization's custom SSL edge whose certificate
        covers the hostname, else the shared gateway of the app's region."""
        ssl_edges = self.filter(kind=Edge.Kind.CUSTOM_SSL, organization_id=organization_id)
        for edge in ssl_edges.select_related("certificate").order_by("name"):
            certificate = getattr(edge, "certificate", None)
            if certificate is not None and certificate.covers(hostname):
                return edge
        return self.gateway_for(region)


class Edge(models.Model):
    class Kind(models.TextChoices):
        GATEWAY = "gateway", "Shared gateway"
        CUSTOM_SSL = "custom_ssl", "Custom SSL edge"

    class Proxy(models.TextChoices):
        NGINX_LEGACY = "nginx_legacy", "Nginx (legacy)"
        HIPACHE = "hipache", "Hipache"
        HAPROXY = "haproxy", "HAProxy"

    name = models.CharField(max_length=30, unique=True, validators=[validate_edge_name])
    hostname = models.CharField(
        max_length=253,
        unique=True,
        validators=[validate_hostname],
        help_text="The CNAME target customers point their domains at.",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    organization = models.ForeignKey(
        "dashboard.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="edges",
        help_text="The one customer a custom SSL edge is dedicated to; empty for gateways.",
    )
    proxy = models.CharField(max_length=16, choices=Proxy.choices)
    region = models.CharField(max_length=8, choices=[("us", "United States"), ("eu", "Europe")])
    http_port = models.PositiveIntegerField(default=80, validators=_PORT)
    https_port = models.PositiveIntegerField(default=443, validators=_PORT)
    ws_port = models.PositiveIntegerField(default=8080, validators=_PORT)
    wss_port = models.PositiveIntegerField(default=8443, validators=_PORT)
    idle_timeout_seconds = models.PositiveIntegerField(
        default=55,
        validators=[MinValueValidator(5), MaxValueValidator(3600)],
        help_text="Idle WebSocket connections are closed after this many seconds.",
    )
    ingest_token_prefix = models.CharField(max_length=16, blank=True)
    ingest_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # The last report applied: its sequence number and when it arrived.
    last_seq = models.BigIntegerField(null=True, blank=True, editable=False)
    last_report_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What the edge agent last said about the configuration it was served.
    config_status = models.CharField(
        max_length=10,
        choices=[("applied", "Applied"), ("rejected", "Rejected")],
        blank=True,
        editable=False,
    )
    config_etag = models.CharField(max_length=80, blank=True, editable=False)
    config_message = models.TextField(blank=True, editable=False)
    config_reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EdgeQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="gateway", organization__isnull=True))
                | (Q(kind="custom_ssl", organization__isnull=False)),
                name="edge_owner_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("edge-detail", args=[self.name])

    def clean(self) -> None:
        if self.kind == self.Kind.GATEWAY and self.organization_id:
            raise ValidationError({"organization": "Shared gateways belong to no organization."})
        if self.kind == self.Kind.CUSTOM_SSL and not self.organization_id:
            raise ValidationError(
                {"organization": "A custom SSL edge is dedicated to one organization."}
            )

    @property
    def capabilities(self) -> Capabilities:
        return capabilities_of(self.proxy)

    @property
    def carries_websockets(self) -> bool:
        return self.capabilities.websockets

    def setup(self) -> dict[str, Any]:
        """What the edge is set up as, in primitives: the audit trail's record of it and the
        core of the API's answer."""
        return {
            "name": self.name,
            "hostname": self.hostname,
            "kind": self.kind,
            "proxy": self.proxy,
            "region": self.region,
            "ports": {
                "http": self.http_port,
                "https": self.https_port,
                "ws": self.ws_port,
                "wss": self.wss_port,
            },
            "idle_timeout_seconds": self.idle_timeout_seconds,
        }

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        """Silent for longer than EDGE_STALE_AFTER (or never heard from)."""
        return self.last_report_at is None or self.last_report_at < stale_cutoff(now)

    @property
    def blocks_websockets(self) -> bool:
        """A custom SSL edge whose proxy cannot carry WebSockets (the legacy Nginx build): the
        apps whose custom domains it carries cannot turn websockets on."""
        return self.kind == Edge.Kind.CUSTOM_SSL and not self.carries_websockets

    @property
    def ping_advice(self) -> str:
        interval = max(self.idle_timeout_seconds // 2, 1)
        return (
            f"Idle WebSocket connections are closed after {self.idle_timeout_seconds} s: send a "
            f"ping at least every {interval} s to keep them open."
        )


def _validate_sans(sans: Any) -> None:
    # A value that is not a list of strings is reported by Certificate.clean.
    if isinstance(sans, list):
        for name in sans:
            if isinstance(name, str):
                validate_certificate_name(name)


class Certificate(models.Model):
    """The certificate a custom SSL edge presents."""

    edge = models.OneToOneField(Edge, on_delete=models.CASCADE, related_name="certificate")
    common_name = models.CharField(max_length=253)
    sans = models.JSONField(default=list, blank=True, help_text="Subject alternative names.")
    issuer = models.CharField(max_length=255)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    EXPIRY_WARNING = dt.timedelta(days=30)

    class Meta:
        ordering = ["edge__name"]

    def __str__(self) -> str:
        return f"{self.common_name} ({self.edge})"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        checks = {
            "common_name": validate_certificate_name,
            "sans": _validate_sans,
            "issuer": lambda v: validate_line(v, what="The issuer"),
        }
        clean_text_fields(self, exclude, super().clean_fields, checks)

    def clean(self) -> None:
        if self.not_before and self.not_after and self.not_after <= self.not_before:
            raise ValidationError({"not_after": "The certificate must expire after it starts."})
        if not isinstance(self.sans, list) or not all(isinstance(s, str) for s in self.sans):
            raise ValidationError({"sans": "Subject alternative names are a list of hostnames."})

    @property
    def names(self) -> list[str]:
        return [self.common_name, *[s for s in self.sans if s != self.common_name]]

    def covers(self, hostname: str) -> bool:
        for name in self.names:
            if name == hostname:
                return True
            wildcard = name.startswith("*.") and hostname.count(".") == name.count(".")
            if wildcard and hostname.split(".", 1)[1] == name[2:]:
                return True
        return False

    def expiry_status(self, now: dt.datetime | None = None) -> str:
        now = now or timezone.now()
        if self.not_after <= now:
            return "expired"
        if self.not_after - now <= self.EXPIRY_WARNING:
            return "expiring"
        return "valid"

    def days_left(self, now: Any = None) -> int:
        now = now or timezone.now()
        return (self.not_after - now).days


class EdgeUpgradeQuerySet(models.QuerySet["EdgeUpgrade"]):
    def visible_to(self, user: AnyUser) -> EdgeUpgradeQuerySet:
        return self.filter(edge__in=Edge.objects.visible_to(user))

    def open(self) -> EdgeUpgradeQuerySet:
        return self.filter(state__in=EdgeUpgrade.OPEN_STATES)


class EdgeUpgrade(models.Model):
    """Moving a custom SSL edge from the legacy Nginx build to Hipache, so it carries
    WebSockets."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATES = ("requested", "scheduled", "in_progress", "failed")
    TARGET_PROXY = "hipache"

    edge = models.ForeignKey(Edge, on_delete=models.CASCADE, related_name="upgrades")
    state = models.CharField(max_length=12, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    from_proxy = models.CharField(max_length=16, choices=Edge.Proxy.choices)
    old_hostname = models.CharField(max_length=253, blank=True)
    new_hostname = models.CharField(
        max_length=253,
        blank=True,
        validators=[validate_hostname],
        help_text="The new CNAME target, when the upgrade provisions one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EdgeUpgradeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["edge"],
                condition=Q(state__in=["requested", "scheduled", "in_progress", "failed"]),
                name="edgeupgrade_one_open_per_edge",
            )
        ]

    def __str__(self) -> str:
        return f"upgrade #{self.pk} of {self.edge}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    def timeline(self) -> list[UpgradeStep]:
        """Its steps, oldest first (prefetched `steps` when the caller loaded them)."""
        return sorted(self.steps.all(), key=lambda step: (step.at, step.pk))

    @property
    def request_note(self) -> str:
        """What the requester asked support, kept apart from every later step's note."""
        return next((s.note for s in self.timeline() if s.action == UpgradeStep.Action.REQUEST), "")

    @property
    def last_step(self) -> UpgradeStep | None:
        steps = self.timeline()
        return steps[-1] if steps else None


class UpgradeStep(models.Model):
    """One step of an upgrade, as its timeline shows it: who took it, when, with its own note."""

    class Action(models.TextChoices):
        REQUEST = "request", "Requested"
        SCHEDULE = "schedule", "Scheduled"
        RESCHEDULE = "reschedule", "Rescheduled"
        START = "start", "Started"
        COMPLETE = "complete", "Completed"
        FAIL = "fail", "Marked failed"
        CANCEL = "cancel", "Cancelled"
        RETRY = "retry", "Retried"

    upgrade = models.ForeignKey(EdgeUpgrade, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept apart from the foreign key so the timeline survives the user's deletion.
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    # The window this step set (schedule, reschedule, retry) and, for a reschedule, the one before.
    window = models.DateTimeField(null=True, blank=True)
    previous_window = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_label}"


class ConnectionRollup(models.Model):
    """Per-minute history of an app's connections on one edge, for charts; kept 7 days."""

    edge = models.ForeignKey(Edge, on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey("dashboard.App", on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    max_connections = models.PositiveIntegerField(default=0)
    sum_connections = models.BigIntegerField(default=0)
    samples = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["minute"]
        constraints = [
            models.UniqueConstraint(fields=["edge", "app", "minute"], name="rollup_unique")
        ]
        indexes = [models.Index(fields=["app", "minute"]), models.Index(fields=["minute"])]

    def __str__(self) -> str:
        return f"{self.app_id}@{self.edge_id} {self.minute:%Y-%m-%d %H:%M}"

    @property
    def average(self) -> float:
        return self.sum_connections / self.samples if self.samples else 0.0
