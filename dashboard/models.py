"""Organizations, their members, apps and domains; the feature catalog; audit; API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from shared.validators import (
    clean_text_fields,
    validate_app_name,
    validate_feature_name,
    validate_hostname,
    validate_line,
    validate_org_name,
    validate_text,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def _is_customer(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and not user.is_staff)


def _sees_everything(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def member_org_ids(user: Any) -> models.QuerySet[Any]:
    """The ids of the organizations the user belongs to, as a subquery."""
    return Membership.objects.filter(user=user).values("organization_id")


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def visible_to(self, user: AnyUser) -> OrganizationQuerySet:
        if _sees_everything(user):
            return self
        if _is_customer(user):
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


class AppQuerySet(models.QuerySet["App"]):
    def visible_to(self, user: AnyUser) -> AppQuerySet:
        if _sees_everything(user):
            return self
        if _is_customer(user):
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


class Feature(models.Model):
    """The catalog of lab features, as Heroku Labs lists them."""

    class State(models.TextChoices):
        ALPHA = "alpha", "Alpha"
        BETA = "beta", "Beta"
        GENERAL = "general", "General"

    class Scope(models.TextChoices):
        APP = "app", "App"
        ACCOUNT = "account", "Account"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=50, unique=True, validators=[validate_feature_name])
    display_name = models.CharField(max_length=100)
    description = models.TextField()
    doc_url = models.URLField(blank=True)
    feedback_email = models.EmailField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.BETA)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.APP)
    self_serve = models.BooleanField(
        default=True, help_text="Customers may switch it on their own apps."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def doc_link(self) -> str:
        """The documentation URL when a browser may follow it: never a javascript: one that
        older rows could hold."""
        return self.doc_url if self.doc_url.lower().startswith(("https://", "http://")) else ""

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        checks = {
            "display_name": lambda v: validate_line(v, what="The display name"),
            "description": lambda v: validate_text(v, what="The description"),
        }
        clean_text_fields(self, exclude, super().clean_fields, checks)


class AppFeature(models.Model):
    """An app's explicit setting of a feature; without a row the feature's default applies."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="app_features")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="app_features")
    enabled = models.BooleanField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["app__name", "feature__name"]
        constraints = [models.UniqueConstraint(fields=["app", "feature"], name="appfeature_unique")]

    def __str__(self) -> str:
        return f"{self.feature} {'on' if self.enabled else 'off'} for {self.app}"


class AccountFeature(models.Model):
    """A user's explicit setting of an account-scope feature."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_features"
    )
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="account_features")
    enabled = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__username", "feature__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "feature"], name="accountfeature_unique")
        ]

    def __str__(self) -> str:
        return f"{self.feature} {'on' if self.enabled else 'off'} for {self.user}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def visible_to(self, user: AnyUser) -> AuditEventQuerySet:
        if _sees_everything(user):
            return self
        if _is_customer(user):
            return self.filter(organization_id__in=member_org_ids(user))
        return self.none()


class AuditEvent(models.Model):
    class Source(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        CLI = "cli", "Command line"
        ADMIN = "admin", "Admin site"
        AGENT = "agent", "Edge agent"
        ROLLOUT = "rollout", "Rollout"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept apart from the foreign key so the trail survives the user's deletion.
    actor_label = models.CharField(max_length=150)
    source = models.CharField(max_length=10, choices=Source.choices)
    action = models.CharField(max_length=64, db_index=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    app = models.ForeignKey(
        App, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=255)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "-created_at"])]

    VERBS: ClassVar[dict[str, str]] = {
        "feature.enable": "enabled {feature} on",
        "feature.disable": "disabled {feature} on",
        "account_feature.enable": "enabled {feature} for",
        "account_feature.disable": "disabled {feature} for",
        "feature.define": "defined the feature",
        "app.create": "created the app",
        "domain.add": "added the domain",
        "domain.remove": "removed the domain",
        "backend.add": "added the back-end",
        "backend.remove": "removed the back-end",
        "organization.create": "created the organization",
        "membership.set": "set the membership",
        "user.create": "created the user",
        "edge.create": "created the edge",
        "edge.ingest_token_rotate": "rotated the ingest token of",
        "edge.config_applied": "applied a new configuration on",
        "edge.config_rejected": "had a configuration refused by the proxy on",
        "certificate.set": "installed the certificate",
        "api_token.create": "created the API token",
        "api_token.revoke": "revoked the API token",
        "upgrade.request": "requested",
        "upgrade.schedule": "scheduled",
        "upgrade.start": "started",
        "upgrade.complete": "completed",
        "upgrade.fail": "marked as failed",
        "upgrade.cancel": "cancelled",
        "upgrade.retry": "rescheduled",
        "domain.dns_check": "checked the DNS of",
    }

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_label}"

    @property
    def summary(self) -> str:
        """What happened, in words: `enabled websockets on`, to be followed by the target."""
        template = self.VERBS.get(self.action)
        if template is None:
            return self.action.replace("_", " ").replace(".", " ")
        details = self.after if isinstance(self.after, dict) else {}
        return template.format(feature=details.get("feature", "a feature"))


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def visible_to(self, user: AnyUser) -> ApiTokenQuerySet:
        if user.is_authenticated and user.is_active:
            return self.filter(user=user)
        return self.none()

    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the prefix identifies it to people."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    label = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key and the answer its first request got (kept a day)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"
