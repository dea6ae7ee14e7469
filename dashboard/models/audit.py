"""The audit trail: who changed what, from where, before and after."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models

from dashboard.models.apps import App
from dashboard.models.organizations import (
    Organization,
    is_customer,
    member_org_ids,
    sees_everything,
)

if TYPE_CHECKING:
    from dashboard.models.organizations import AnyUser


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def visible_to(self, user: AnyUser) -> AuditEventQuerySet:
        if sees_everything(user):
            return self
        if is_customer(user):
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
    # Whether the organization's members may read the reason. Support's and the platform's
    # reasons are internal unless support shares them; a member's own words are theirs to read.
    reason_shared = models.BooleanField(default=False, db_default=False)

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
        "domain.restore": "brought back the domain",
        "backend.add": "added the back-end",
        "backend.remove": "removed the back-end",
        "backend.restore": "brought back the back-end",
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
        "api_token.restore": "undid the revocation of the API token",
        "upgrade.request": "requested",
        "upgrade.schedule": "scheduled",
        "upgrade.start": "started",
        "upgrade.complete": "completed",
        "upgrade.fail": "marked as failed",
        "upgrade.cancel": "cancelled",
        "upgrade.reschedule": "moved the window of",
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

    def reason_for(self, viewer: AnyUser) -> str:
        """The reason as `viewer` may read it: support reads every one; a customer only a
        shared one (else nothing: the line still says who changed what)."""
        if self.reason_shared or sees_everything(viewer):
            return self.reason
        return ""
