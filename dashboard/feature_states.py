"""Reading feature states: an app's explicit setting, else the feature's default for that app."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import models

from dashboard.models import AccountFeature, App, AppFeature, Feature

WEBSOCKETS = "websockets"


def websockets_ga_start() -> dt.datetime:
    return dt.datetime.combine(settings.WEBSOCKETS_GA_DATE, dt.time.min, tzinfo=dt.UTC)


def feature_default(feature: Feature, app: App) -> bool:
    """Websockets is on for apps created on or after general availability; the rest start off."""
    if feature.name == WEBSOCKETS:
        return app.created_at >= websockets_ga_start()
    return False


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
    return {app.pk: explicit.get(app.pk, feature_default(feature, app)) for app in apps}
