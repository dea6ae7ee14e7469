"""Heroku Platform API v3 shapes for our models."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings

from dashboard.access import APP_PERMISSIONS, member_app_permissions
from dashboard.models import App, Domain, Membership, Organization
from dashboard.models.features import FeatureState

# Stable ids for things that have no UUID column: users, regions, stacks.
_NAMESPACE = uuid.UUID("6f0b6a3c-3f1e-4d6a-9a57-2f6f3c1f8e21")


def stable_id(kind: str, key: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))


def timestamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_ref(user: Any) -> dict[str, Any]:
    return {"email": user.email, "id": stable_id("user", user.pk)}


def user_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def account_json(user: Any) -> dict[str, Any]:
    return {
        "allow_tracking": False,
        "beta": False,
        "country_of_residence": None,
        "created_at": timestamp(user.date_joined),
        "default_organization": None,
        "default_team": None,
        "delinquent_at": None,
        "email": user.email,
        "federated": False,
        "id": stable_id("user", user.pk),
        "identity_provider": None,
        "last_login": timestamp(user.last_login),
        "name": user_name(user),
        "sms_number": None,
        "suspended_at": None,
        "two_factor_authentication": False,
        "updated_at": timestamp(user.last_login or user.date_joined),
        "verified": True,
    }


def team_ref(organization: Organization) -> dict[str, Any]:
    return {"id": str(organization.uuid), "name": organization.name}


def team_json(organization: Organization, role: str | None) -> dict[str, Any]:
    return {
        "created_at": timestamp(organization.created_at),
        "credit_card_collections": False,
        "default": False,
        "enterprise_account": None,
        "id": str(organization.uuid),
        "identity_provider": None,
        "membership_limit": None,
        "name": organization.name,
        "provisioned_licenses": False,
        "role": role,
        "type": "team",
        "updated_at": timestamp(organization.updated_at),
    }


def team_owner(organization: Organization) -> dict[str, Any]:
    """A team app's owner, as Heroku shows it: the team's own pseudo-user."""
    return {
        "email": f"{organization.name}@teams.{settings.PLATFORM_DOMAIN}",
        "id": stable_id("team-owner", organization.uuid),
    }


def named_ref(kind: str, name: str) -> dict[str, Any]:
    return {"id": stable_id(kind, name), "name": name}


# Heroku's platform generation of an app on each stack: every stack here is a Cedar one (Fir's
# apps build with Cloud Native Buildpacks, which this platform does not run).
GENERATION_OF_STACK = {App.Stack.CEDAR: "cedar", App.Stack.CEDAR_14: "cedar"}


def generation_ref(app: App) -> dict[str, Any]:
    return named_ref("generation", GENERATION_OF_STACK[App.Stack(app.stack)])


def app_json(app: App) -> dict[str, Any]:
    organization = app.organization
    return {
        "acm": False,
        "archived_at": None,
        "buildpack_provided_description": None,
        "build_stack": named_ref("stack", app.stack),
        # Not in the schema, but read by `heroku apps:info`: an app here is created at once.
        "create_status": "complete",
        "created_at": timestamp(app.created_at),
        "generation": generation_ref(app),
        "git_url": f"https://git.{settings.PLATFORM_DOMAIN}/{app.name}.git",
        "id": str(app.uuid),
        "internal_routing": None,
        "maintenance": False,
        "name": app.name,
        "organization": team_ref(organization),
        "owner": team_owner(organization),
        "region": named_ref("region", app.region),
        "released_at": timestamp(app.updated_at),
        "repo_size": None,
        "slug_size": None,
        "space": None,
        "stack": named_ref("stack", app.stack),
        "team": team_ref(organization),
        "updated_at": timestamp(app.updated_at),
        "web_url": app.web_url,
    }


def team_app_json(app: App, *, joined: bool) -> dict[str, Any]:
    """An app as a team's app: `joined` when the reader is one of its collaborators (here, a
    member of its organization); `locked` is false, as on Heroku for an app never locked: no
    app here is closed to the organization's members."""
    return {**app_json(app), "joined": joined, "locked": False}


def team_member_json(membership: Membership) -> dict[str, Any]:
    user = membership.user
    return {
        "created_at": timestamp(membership.created_at),
        "email": user.email,
        "federated": False,
        "id": stable_id("membership", membership.pk),
        "identity_provider": None,
        "role": membership.role,
        "two_factor_authentication": False,
        "updated_at": timestamp(membership.created_at),
        "user": {"email": user.email, "id": stable_id("user", user.pk), "name": user_name(user)},
    }


def permission_json(name: str) -> dict[str, Any]:
    return {"name": name, "description": APP_PERMISSIONS[name]}


def feature_json(state: FeatureState) -> dict[str, Any]:
    feature = state.feature
    explicit = state.explicit
    return {
        "created_at": timestamp(feature.created_at),
        "description": feature.description,
        "display_name": feature.display_name,
        "doc_url": feature.doc_url,
        "enabled": state.enabled,
        "feedback_email": feature.feedback_email,
        "id": str(feature.uuid),
        "name": feature.name,
        "state": feature.state,
        "updated_at": timestamp(explicit.updated_at if explicit else feature.updated_at),
    }


# Heroku's `status` tells whether the domain is in service. A custom domain is attached at
# once; until its DNS has been checked it is `none`, which the CLI treats as nothing pending.
DNS_TO_HEROKU_STATUS = {
    Domain.DnsStatus.OK: "succeeded",
    Domain.DnsStatus.PENDING: "none",
    Domain.DnsStatus.UPDATE_REQUIRED: "failed",
    Domain.DnsStatus.UNRESOLVABLE: "failed",
}


def domain_json(domain: Domain) -> dict[str, Any]:
    is_default = domain.kind == Domain.Kind.DEFAULT
    return {
        "acm_status": None,
        "acm_status_reason": None,
        "app": {"id": str(domain.app.uuid), "name": domain.app.name},
        "cname": None if is_default else domain.edge.hostname,
        "created_at": timestamp(domain.created_at),
        "hostname": domain.hostname,
        "id": str(domain.uuid),
        "kind": "heroku" if is_default else "custom",
        "sni_endpoint": None,
        "status": "succeeded" if is_default else DNS_TO_HEROKU_STATUS[domain.dns_status],
        "updated_at": timestamp(domain.updated_at),
        # Not in Heroku's API: which edge carries the domain and what DNS showed.
        "edge": {"name": domain.edge.name, "proxy": domain.edge.proxy},
        "dns_status": domain.dns_status,
    }


def membership_role(user: Any, organization: Organization) -> str | None:
    membership = Membership.objects.filter(user=user, organization=organization).first()
    return membership.role if membership else None


def collaborator_json(app: App, membership: Membership) -> dict[str, Any]:
    """A member of the app's organization as Heroku's team-app collaborator (which the plain
    collaborator resource answers too for a team's app)."""
    user = membership.user
    return {
        "app": {"id": str(app.uuid), "name": app.name},
        "created_at": timestamp(membership.created_at),
        "id": stable_id("membership", membership.pk),
        "permissions": [permission_json(p) for p in member_app_permissions(membership.role)],
        "role": membership.role,
        "updated_at": timestamp(membership.created_at),
        "user": {"email": user.email, "federated": False, "id": stable_id("user", user.pk)},
    }
