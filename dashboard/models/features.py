"""The feature catalog, each app's or account's explicit setting, and the state that follows:
the explicit setting, else the feature's default for that app."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db import models

from dashboard.models.apps import App
from shared.validators import (
    clean_text_fields,
    validate_feature_name,
    validate_line,
    validate_text,
)


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


WEBSOCKETS = "websockets"


def websockets_ga_start() -> dt.datetime:
    return dt.datetime.combine(settings.WEBSOCKETS_GA_DATE, dt.time.min, tzinfo=dt.UTC)


def feature_default(feature: Feature, app: App) -> bool:
    """Websockets is on for apps created on or after general availability; the rest start off."""
    if feature.name == WEBSOCKETS:
        return websockets_on(app, None)
    return False


def websockets_on(app: App, explicit: bool | None) -> bool:
    """Whether websockets is on for an app, given its explicit setting (None: no setting): the
    one place the general-availability default is decided."""
    if explicit is not None:
        return explicit
    return app.created_at >= websockets_ga_start()


@dataclass(frozen=True)
class FeatureState:
    feature: Feature
    enabled: bool
    explicit: models.Model | None

    @property
    def is_default(self) -> bool:
        return self.explicit is None


def app_feature_states(app: App) -> list[FeatureState]:
    """Every app-scope feature of the catalog with its state for this app, in two queries."""
    explicit = {af.feature_id: af for af in AppFeature.objects.filter(app=app)}
    states = []
    catalog = sorted(
        Feature.objects.filter(scope=Feature.Scope.APP),
        key=lambda f: (f.name != WEBSOCKETS, f.name),
    )
    for feature in catalog:
        row = explicit.get(feature.pk)
        enabled = row.enabled if row else feature_default(feature, app)
        states.append(FeatureState(feature=feature, enabled=enabled, explicit=row))
    return states


def account_feature_states(user: object) -> list[FeatureState]:
    """Every account-scope feature with its state for this user."""
    explicit = {af.feature_id: af for af in AccountFeature.objects.filter(user=user)}
    states = []
    for feature in Feature.objects.filter(scope=Feature.Scope.ACCOUNT):
        row = explicit.get(feature.pk)
        states.append(
            FeatureState(feature=feature, enabled=row.enabled if row else False, explicit=row)
        )
    return states


def websockets_enabled(apps: list[App]) -> dict[int, bool]:
    """Whether websockets is on for each app, in two queries whatever the number of apps."""
    feature = Feature.objects.filter(name=WEBSOCKETS).first()
    if feature is None:
        return {app.pk: False for app in apps}
    explicit = dict(
        AppFeature.objects.filter(feature=feature, app__in=[a.pk for a in apps]).values_list(
            "app_id", "enabled"
        )
    )
    return {app.pk: websockets_on(app, explicit.get(app.pk)) for app in apps}
