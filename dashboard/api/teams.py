"""Heroku Platform API v3 teams: an organization is a team, its members are the team's members
and its apps are the team's apps; and the apps a person collaborates on."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse

from dashboard.access import APP_PERMISSIONS, is_member
from dashboard.api.base import (
    api_view,
    app_for,
    app_list_answer,
    by_id_or_name,
    json_body,
    visible_apps,
)
from dashboard.api.pagination import paginate
from dashboard.api.serializers import (
    collaborator_json,
    membership_role,
    permission_json,
    stable_id,
    team_app_json,
    team_json,
    team_member_json,
)
from dashboard.models import App, AuditEvent, Membership, Organization, users_visible_to
from dashboard.services.accounts import membership_remove, membership_set
from shared.errors import TEAM_NOT_FOUND, ApiError, invalid_params, not_found

SOURCE = AuditEvent.Source.API
USER_NOT_FOUND = "Couldn't find that user."
MEMBER_NOT_FOUND = "Couldn't find that team member."
COLLABORATOR_NOT_FOUND = "Couldn't find that collaborator."


def _team(user: Any, id_or_name: str) -> Organization:
    return by_id_or_name(  # type: ignore[return-value]
        Organization.objects.visible_to(user), id_or_name, message=TEAM_NOT_FOUND
    )


def _memberships(organization: Organization) -> QuerySet[Membership]:
    return organization.memberships.select_related("user", "organization")


def _member(
    organization: Organization, email_or_id: str, *, message: str = MEMBER_NOT_FOUND
) -> Membership:
    """A member by their email or their team-member (or collaborator) id."""
    try:
        wanted_id = str(uuid.UUID(email_or_id))
    except ValueError:
        wanted_id = None
    for membership in _memberships(organization):
        if wanted_id == stable_id("membership", membership.pk):
            return membership
        if wanted_id is None and membership.user.email.lower() == email_or_id.lower():
            return membership
    raise not_found(message)


@api_view("GET")
def team_list(request: HttpRequest, user: Any) -> JsonResponse:
    organizations = Organization.objects.visible_to(user)
    roles = dict(user.memberships.values_list("organization_id", "role"))
    return paginate(
        request,
        organizations,
        fields={"id": "uuid", "name": "name"},
        serialize=lambda org: team_json(org, roles.get(org.pk)),
        value_of=lambda org, field: str(org.uuid) if field == "id" else org.name,
    )


@api_view("GET")
def team_detail(request: HttpRequest, user: Any, id_or_name: str) -> JsonResponse:
    organization = _team(user, id_or_name)
    return JsonResponse(team_json(organization, membership_role(user, organization)))


@api_view("GET")
def team_app_list(request: HttpRequest, user: Any, id_or_name: str) -> JsonResponse:
    organization = _team(user, id_or_name)
    joined = is_member(user, organization.pk)
    return app_list_answer(
        request,
        visible_apps(user).filter(organization=organization),
        lambda app: team_app_json(app, joined=joined),
    )


@api_view("GET")
def team_app_detail(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    target = app_for(user, app)
    return JsonResponse(team_app_json(target, joined=is_member(user, target.organization_id)))


# Who works on an app is who belongs to its organization: there is no list per app to change.
COLLABORATOR_CHANGES = {
    "POST": "add people to {team} instead (heroku members:add EMAIL -t {team})",
    "DELETE": "remove people from {team} instead (heroku members:remove EMAIL -t {team})",
    "PATCH": "every member holds the same permissions on each app of {team}",
}


def _collaborators_are_members(app: App, method: str) -> ApiError:
    team = app.organization.name
    return invalid_params(
        f"The collaborators of {app.name} are the members of {team}: "
        f"{COLLABORATOR_CHANGES[method].format(team=team)}."
    )


@api_view("GET", "POST")
def app_collaborator_list(request: HttpRequest, user: Any, app: str) -> JsonResponse:
    """The app's collaborators: every member of its organization, with what they may do."""
    target = app_for(user, app)
    if request.method == "POST":
        raise _collaborators_are_members(target, "POST")
    memberships = _memberships(target.organization).order_by("pk")
    return JsonResponse([collaborator_json(target, m) for m in memberships], safe=False)


@api_view("GET", "PATCH", "DELETE")
def app_collaborator_detail(
    request: HttpRequest, user: Any, app: str, email_or_id: str
) -> JsonResponse:
    target = app_for(user, app)
    membership = _member(target.organization, email_or_id, message=COLLABORATOR_NOT_FOUND)
    if request.method != "GET":
        raise _collaborators_are_members(target, request.method or "")
    return JsonResponse(collaborator_json(target, membership))


@api_view("GET")
def team_permission_list(request: HttpRequest, user: Any) -> JsonResponse:
    """What a team app's collaborator may be allowed to do, in Heroku's names."""
    return JsonResponse([permission_json(name) for name in sorted(APP_PERMISSIONS)], safe=False)


@api_view("GET")
def team_feature_list(request: HttpRequest, user: Any, id_or_name: str) -> JsonResponse:
    """No feature here is switched per organization: a team has none, as on Heroku for a team
    enrolled in nothing (so the CLI's members commands add people instead of inviting them)."""
    _team(user, id_or_name)
    return JsonResponse([], safe=False)


# Members


def _member_params(request: HttpRequest) -> tuple[str, str]:
    body = json_body(request)
    email, role = body.get("email"), body.get("role")
    if not isinstance(email, str) or not email.strip():
        raise invalid_params("email is required.")
    if not isinstance(role, str) or role not in Membership.Role.values:
        raise invalid_params(f"role must be one of {', '.join(Membership.Role.values)}.")
    return email.strip(), role


def _person(email: str) -> Any:
    """The one active account with this email; anyone may be added to a team, as on Heroku."""
    people = list(get_user_model().objects.filter(is_active=True, email__iexact=email)[:2])
    if not people:
        raise not_found(USER_NOT_FOUND)
    if len(people) > 1:
        raise invalid_params("More than one account has this email: ask support to add them.")
    return people[0]


@api_view("GET", "PUT", "POST", "PATCH")
def team_member_list(request: HttpRequest, user: Any, id_or_name: str) -> JsonResponse:
    """List the members; PUT or POST adds one or sets their role, PATCH sets a member's role."""
    organization = _team(user, id_or_name)
    if request.method == "GET":
        return paginate(
            request,
            _memberships(organization),
            fields={"email": "user__email"},
            serialize=team_member_json,
            value_of=lambda membership, field: membership.user.email,
        )
    email, role = _member_params(request)
    if request.method == "PATCH":
        membership = _memberships(organization).filter(user__email__iexact=email).first()
        if membership is None:
            raise not_found(MEMBER_NOT_FOUND)
        person = membership.user
    else:
        person = _person(email)
    membership = membership_set(
        organization=organization, user=person, role=role, actor=user, source=SOURCE
    )
    return JsonResponse(team_member_json(membership))


@api_view("DELETE")
def team_member_detail(
    request: HttpRequest, user: Any, id_or_name: str, email_or_id: str
) -> JsonResponse:
    membership = _member(_team(user, id_or_name), email_or_id)
    body = team_member_json(membership)
    membership_remove(membership=membership, actor=user, source=SOURCE)
    return JsonResponse(body)


# A user's apps


def _user(reader: Any, email_or_id: str) -> Any:
    """`~` is the reader; anyone else by email or account id, among the people they may see."""
    if email_or_id == "~":
        return reader
    people = users_visible_to(reader)
    try:
        wanted = str(uuid.UUID(email_or_id))
    except ValueError:
        found = people.filter(email__iexact=email_or_id).order_by("pk").first()
    else:
        pks = people.values_list("pk", flat=True)
        found = next((pk for pk in pks if stable_id("user", pk) == wanted), None)
        found = people.filter(pk=found).first() if found is not None else None
    if found is None:
        raise not_found(USER_NOT_FOUND)
    return found


@api_view("GET")
def user_app_list(request: HttpRequest, user: Any, email_or_id: str) -> JsonResponse:
    """The apps the account collaborates on (here, its organizations' apps) that the reader
    may see too."""
    person = _user(user, email_or_id)
    apps = visible_apps(user)
    if person.pk != user.pk:
        apps = apps.filter(organization__memberships__user=person)
    return app_list_answer(request, apps)
