"""The admin site is one more door to the services: every save and delete of every registered
model goes through the service that owns it, with its audit row (actor, source admin, before and
after) and its push; what the site must not change it refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Model

from dashboard.models import (
    ApiToken,
    App,
    AppFeature,
    AuditEvent,
    Backend,
    Domain,
    Feature,
    Membership,
    Organization,
)
from dashboard.services.apps import backend_add
from dashboard.services.features import feature_set
from dashboard.services.tokens import api_token_create
from edges.models import Certificate, Edge, EdgeUpgrade
from edges.services.upgrades import upgrade_request
from tests.admin_forms import Pushed, form_data, url
from tests.conftest import World, client_for
from tests.factories import make_edge, make_org


def the_audit_row(**filters: Any) -> AuditEvent:
    rows = list(AuditEvent.objects.filter(**filters))
    assert len(rows) == 1, [(r.action, r.before, r.after) for r in AuditEvent.objects.all()]
    return rows[0]


# Each registered model: the row to change, the field and its new value, and the row to delete.
# None: the admin site does not change (or delete) that model, and must refuse to.
Case = tuple[Callable[[World], Model], str, Any] | None


def _app_feature(world: World) -> AppFeature:
    websockets = Feature.objects.get(name="websockets")
    return feature_set(
        app=world.acme_api, feature=websockets, enabled=False, actor=None, source="cli"
    ).row  # type: ignore[return-value]


def _token(world: World) -> ApiToken:
    return api_token_create(
        user=User.objects.get(username="admin"), label="ci", actor=None, source="cli"
    )[0]


def _upgrade(world: World) -> EdgeUpgrade:
    return upgrade_request(edge=world.acme_ssl, actor=None, source="cli")


def _backend(world: World) -> Backend:
    return backend_add(app=world.acme_api, address="10.0.0.9:5000", actor=None, source="cli")


CHANGES: dict[type[Model], Case] = {
    User: (lambda w: User.objects.get(username="bob"), "first_name", "Robert"),
    Group: (lambda w: Group.objects.create(name="on-call"), "name", "on-call-eu"),
    Organization: (lambda w: w.acme, "display_name", "Acme Corporation"),
    Membership: (lambda w: Membership.objects.get(user__username="bob"), "role", "owner"),
    App: (lambda w: w.acme_api, "stack", "cedar"),
    Domain: (
        lambda w: Domain.objects.get(hostname="www.acme.example"),
        "dns_status",
        "unresolvable",
    ),
    Feature: (lambda w: Feature.objects.get(name="websockets"), "display_name", "Web Sockets"),
    AppFeature: (_app_feature, "enabled", True),
    Backend: (_backend, "port", "5001"),
    Edge: (lambda w: w.gateway, "idle_timeout_seconds", "120"),
    Certificate: (lambda w: w.acme_ssl.certificate, "issuer", "Other CA"),
    AuditEvent: None,
    ApiToken: None,
    EdgeUpgrade: None,
}


def _feature(world: World) -> Feature:
    return Feature.objects.create(name="beta-thing", display_name="Beta", scope="app")


DELETES: dict[type[Model], Callable[[World], Model] | None] = {
    User: lambda w: User.objects.get(username="bob"),
    Group: lambda w: Group.objects.create(name="on-call"),
    Organization: lambda w: make_org("initech"),
    Membership: lambda w: Membership.objects.get(user__username="bob"),
    App: lambda w: w.acme_api,
    Domain: lambda w: Domain.objects.get(hostname="www.acme.example"),
    Feature: _feature,
    AppFeature: None,
    Backend: _backend,
    Edge: lambda w: make_edge("spare-gw", hostname="spare.example.net"),
    Certificate: lambda w: w.acme_ssl.certificate,
    AuditEvent: None,
    ApiToken: None,
    EdgeUpgrade: None,
}


def test_every_registered_model_has_a_change_and_a_delete_case() -> None:
    assert set(admin.site._registry) == set(CHANGES) == set(DELETES)


@pytest.mark.parametrize("model", list(CHANGES), ids=lambda m: m._meta.model_name)
def test_an_admin_change_goes_through_a_service(
    model: type[Model], world: World, admin_user: User, bob: User
) -> None:
    case = CHANGES[model]
    if model is ApiToken:
        obj: Model = _token(world)
    elif model is EdgeUpgrade:
        obj = _upgrade(world)
    elif model is AuditEvent:
        obj = AuditEvent.objects.create(actor_label="x", source="cli", action="x.y")
    else:
        assert case is not None
        obj = case[0](world)
    client = client_for(admin_user)
    if case is None:
        before = {f.name: getattr(obj, f.name) for f in model._meta.concrete_fields}
        response = client.post(url(obj, "change"), {"note": "changed", "label": "changed"})
        assert response.status_code == 403
        obj.refresh_from_db()
        assert {f.name: getattr(obj, f.name) for f in model._meta.concrete_fields} == before
        return
    _, field, value = case
    data = form_data(client, url(obj, "change"))
    old = data.get(field)
    data[field] = value if value is not True else "on"
    data["reason"] = "ticket #16: admin walk"
    AuditEvent.objects.all().delete()

    response = client.post(url(obj, "change"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    row = AuditEvent.objects.filter(source="admin").get()
    assert row.actor == admin_user
    assert row.before is not None and row.after is not None
    assert row.before != row.after
    # The row records the field's value before and after (in the service's own terms).
    recorded = {**row.before, **row.after}
    assert field in recorded or {"enabled", "feature"} <= set(recorded), recorded
    if field in row.after:
        assert str(row.after[field]) in (str(value), "True")
        assert str(row.before[field]) in (str(old), "None", "False", "")
    assert AuditEvent.objects.exclude(source="admin").count() == 0


@pytest.mark.parametrize("model", list(DELETES), ids=lambda m: m._meta.model_name)
def test_an_admin_delete_goes_through_a_service(
    model: type[Model], world: World, admin_user: User, bob: User
) -> None:
    make = DELETES[model]
    client = client_for(admin_user)
    if make is None:
        obj = {ApiToken: _token, EdgeUpgrade: _upgrade, AppFeature: _app_feature}.get(model)
        row = (
            obj(world)
            if obj
            else AuditEvent.objects.create(actor_label="x", source="cli", action="x.y")
        )
        response = client.post(url(row, "delete"), {"post": "yes"})
        assert response.status_code == 403
        assert model._default_manager.filter(pk=row.pk).exists()
        return
    obj = make(world)
    AuditEvent.objects.all().delete()

    response = client.post(url(obj, "delete"), {"post": "yes"})

    assert response.status_code == 302
    assert not model._default_manager.filter(pk=obj.pk).exists()
    row = AuditEvent.objects.get(source="admin")
    assert row.actor == admin_user
    assert row.before and row.after is None
    assert row.target_id == str(obj.pk)


def test_the_default_domain_cannot_be_deleted_and_the_admin_says_why(
    world: World, admin_user: User
) -> None:
    default = Domain.objects.get(app=world.acme_api, kind=Domain.Kind.DEFAULT)
    client = client_for(admin_user)

    response = client.post(url(default, "delete"), {"post": "yes"}, follow=True)

    assert "The default domain of an app cannot be removed." in response.content.decode()
    assert Domain.objects.filter(pk=default.pk).exists()
    assert not AuditEvent.objects.filter(source="admin").exists()


def test_a_domain_changed_in_the_admin_is_pushed_to_its_app_page(
    world: World, admin_user: User, pushed: Pushed, committed: Callable[[], Any]
) -> None:
    domain = Domain.objects.get(hostname="www.acme.example")
    client = client_for(admin_user)
    data = form_data(client, url(domain, "change"))
    data["dns_status"] = "unresolvable"

    with committed():
        assert client.post(url(domain, "change"), data).status_code == 302

    assert (
        "domains.changed",
        {"app": "acme-web", "organization": "acme", "hostname": "www.acme.example"},
    ) in pushed


def test_an_organization_added_in_the_admin_is_created_by_its_service(
    world: World, admin_user: User
) -> None:
    response = client_for(admin_user).post(
        "/admin/dashboard/organization/add/",
        {"name": "initech", "display_name": "Initech"}
        | {"memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0},
    )
    assert response.status_code == 302
    row = the_audit_row(action="organization.create", source="admin")
    assert (row.source, row.actor, row.after) == (
        "admin",
        admin_user,
        {"name": "initech", "display_name": "Initech"},
    )


def test_an_app_added_in_the_admin_gets_its_default_domain(world: World, admin_user: User) -> None:
    response = client_for(admin_user).post(
        "/admin/dashboard/app/add/",
        {
            "name": "acme-jobs",
            "organization": world.acme.pk,
            "region": "us",
            "stack": "cedar-14",
            "created_at_0": "2026-11-30",
            "created_at_1": "10:00:00",
        }
        | {
            f"{p}-{k}": 0 for p in ("domains", "backends") for k in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    app = App.objects.get(name="acme-jobs")
    assert app.domains.filter(kind=Domain.Kind.DEFAULT).exists()
    assert the_audit_row(action="app.create", source="admin").actor == admin_user


def test_a_password_set_in_the_admin_is_audited_without_the_password(
    world: World, admin_user: User, bob: User, pushed: Pushed, committed: Callable[[], Any]
) -> None:
    secret = "a-new-long-passphrase-42"
    with committed():
        response = client_for(admin_user).post(
            f"/admin/auth/user/{bob.pk}/password/",
            {"password1": secret, "password2": secret, "usable_password": "true"},
        )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password(secret)
    row = the_audit_row(action="user.password_set")
    assert (row.source, row.actor) == ("admin", admin_user)
    assert secret not in str(row.before) + str(row.after)
    assert ("access.changed", {"user": bob.pk}) in pushed


def test_a_domain_cannot_be_moved_onto_a_legacy_ssl_edge_while_its_app_has_websockets(
    world: World, admin_user: User, pushed: Pushed, committed: Callable[[], Any]
) -> None:
    domain = Domain.objects.get(hostname="shop.globex.example")
    feature_set(
        app=world.globex_store,
        feature=Feature.objects.get(name="websockets"),
        enabled=True,
        actor=None,
        source="cli",
    )
    legacy = make_edge(
        "globex-old",
        hostname="old.globex.example",
        kind="custom_ssl",
        proxy="nginx_legacy",
        org=world.globex,
    )
    client = client_for(admin_user)
    data = form_data(client, url(domain, "change"))
    data["edge"] = legacy.pk

    with committed():
        response = client.post(url(domain, "change"), data)

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["edge"]
    assert "globex-old cannot carry WebSockets" in message and "globex-store" in message
    domain.refresh_from_db()
    assert domain.edge == world.globex_ssl
    assert not AuditEvent.objects.filter(source="admin").exists()
    assert pushed == []
