"""The app page does what Heroku users expect: custom domains added and removed there (through
the Platform API's domain service, removal confirmed first), who works on the app and as what,
and links to jump between its sections."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import AuditEvent, Domain, Membership
from tests.admin_forms import Pushed
from tests.conftest import World, client_for
from tests.factories import make_user

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "domains-panel"}


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def hostnames(world: World) -> list[str]:
    return sorted(world.acme_api.domains.values_list("hostname", flat=True))


def test_a_member_adds_a_custom_domain_from_the_page(
    world: World, bob: User, pushed: Pushed, committed: Callable[[], Any]
) -> None:
    with committed():
        panel = client_for(bob).post(
            "/apps/acme-api/domains/", {"hostname": "API.Acme.Example"}, headers=HTMX
        )

    assert panel.status_code == 200 and "<html" not in text(panel)
    assert "Added api.acme.example: point its CNAME at gateway.example.net." in text(panel)
    assert 'id="domain-api-acme-example"' in text(panel)
    assert "api.acme.example" in hostnames(world)
    row = AuditEvent.objects.filter(action="domain.add").latest("id")
    assert (row.actor, row.source, row.app) == (bob, "web", world.acme_api)
    assert pushed == [
        (
            "domains.changed",
            {"app": "acme-api", "organization": "acme", "hostname": "api.acme.example"},
        )
    ]


def test_without_javascript_the_add_redirects_back_to_the_panel(world: World, alice: User) -> None:
    response = client_for(alice).post("/apps/acme-api/domains/", {"hostname": "api.acme.example"})
    assert response.status_code == 302
    assert response["Location"] == "/apps/acme-api/#domains-panel"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("www.acme.example", "This domain is already in use by an app."),
        ("not a hostname", "hostname"),
        ("   ", "Type the hostname to add."),
    ],
)
def test_a_refused_domain_is_shown_beside_the_field_with_what_was_typed(
    world: World, alice: User, typed: str, message: str
) -> None:
    for headers in ({}, HTMX):
        response = client_for(alice).post(
            "/apps/acme-api/domains/", {"hostname": typed}, headers=headers
        )
        assert response.status_code == 422
        page = text(response)
        error = re.search(
            r'<span class="field-error"[^>]*id="domain-add-error"[^>]*>([^<]*)<', page
        )
        assert error and message.lower() in error.group(1).lower()
        assert f'value="{typed}"' in page
        assert 'aria-invalid="true"' in page
    assert hostnames(world) == ["acme-api.example.net"]


def test_removing_a_domain_asks_first_then_removes_it(world: World, alice: User) -> None:
    client = client_for(alice)
    warning = (
        "Remove www.acme.example from acme-web? The edges stop answering for www.acme.example "
        "from their next configuration update, and anyone still sent there gets an error until "
        "you add it again."
    )
    page = text(client.get("/apps/acme-web/"))
    form = page.split('id="domain-remove-form"')[1].split("</form>")[0]
    # The dialog fills in the hostname chosen in the form's one list.
    assert f'data-confirm="{warning.replace("www.acme.example", "{hostname}")}"' in form
    assert "<option>www.acme.example</option>" in form

    question = client.post(
        "/apps/acme-web/domains/remove/", {"hostname": "www.acme.example"}, headers=HTMX
    )
    assert question.status_code == 200 and 'id="confirm-domain-removal"' in text(question)
    assert warning in text(question)
    assert Domain.objects.filter(hostname="www.acme.example").exists()

    done = client.post(
        "/apps/acme-web/domains/remove/",
        {"hostname": "www.acme.example", "confirmed": "yes"},
        headers=HTMX,
    )
    assert "Removed www.acme.example from acme-web." in text(done)
    assert not Domain.objects.filter(hostname="www.acme.example").exists()
    assert AuditEvent.objects.get(action="domain.remove").actor == alice


def test_the_default_domain_is_not_offered_for_removal_and_cannot_be_removed(
    world: World, alice: User
) -> None:
    client = client_for(alice)
    assert "<option>acme-web.example.net</option>" not in text(client.get("/apps/acme-web/"))
    # Nor is there a removal form on an app with no custom domain.
    assert 'id="domain-remove-form"' not in text(client.get("/apps/acme-api/"))
    response = client.post(
        "/apps/acme-web/domains/remove/",
        {"hostname": "acme-web.example.net", "confirmed": "yes"},
    )
    assert response.status_code == 404
    assert Domain.objects.filter(hostname="acme-web.example.net").exists()


def test_another_organizations_app_is_a_404_for_adding_and_removing(
    world: World, carol: User
) -> None:
    client = client_for(carol)
    assert client.post("/apps/acme-web/domains/", {"hostname": "x.example.org"}).status_code == 404
    removal = {"hostname": "www.acme.example", "confirmed": "yes"}
    assert client.post("/apps/acme-web/domains/remove/", removal).status_code == 404
    assert Domain.objects.filter(hostname="www.acme.example").exists()
    assert not Domain.objects.filter(hostname="x.example.org").exists()


def test_support_adds_and_removes_domains_on_any_app(world: World, support: User) -> None:
    client = client_for(support)
    client.post("/apps/globex-store/domains/", {"hostname": "live.globex.example"})
    assert Domain.objects.get(hostname="live.globex.example").app == world.globex_store
    client.post(
        "/apps/globex-store/domains/remove/",
        {"hostname": "live.globex.example", "confirmed": "yes"},
    )
    assert not Domain.objects.filter(hostname="live.globex.example").exists()


def test_domain_forms_need_the_csrf_token(world: World, alice: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post("/apps/acme-api/domains/", {"hostname": "a.acme.example"}).status_code == 403
    removal = {"hostname": "www.acme.example", "confirmed": "yes"}
    assert strict.post("/apps/acme-web/domains/remove/", removal).status_code == 403
    assert hostnames(world) == ["acme-api.example.net"]
    assert Domain.objects.filter(hostname="www.acme.example").exists()


def test_anonymous_visitors_are_sent_to_sign_in(world: World) -> None:
    response = Client().post("/apps/acme-api/domains/", {"hostname": "a.acme.example"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_collaborators_lists_the_organizations_members_and_their_roles(
    world: World, alice: User, bob: User, carol: User
) -> None:
    page = text(client_for(bob).get("/apps/acme-web/"))
    section = page.split('id="collaborators"')[1].split("</section>")[0]
    rows = re.findall(r'<tr id="collaborator-\d+">(.*?)</tr>', section, re.S)
    people = [(re.findall(r"<strong>(.*?)</strong>", row)[0], row) for row in rows]
    assert [name for name, _ in people] == ["alice", "bob"]
    assert ">Owner</span>" in people[0][1] and ">Member</span>" in people[1][1]
    assert "manage, operate, view" in people[1][1]
    assert "carol" not in section
    assert "heroku members:set EMAIL --role owner --team acme" in section
    assert "admin site" not in section  # only superusers get the admin link


def test_a_superuser_gets_a_link_to_change_roles_in_the_admin(
    world: World, alice: User, admin_user: User
) -> None:
    page = text(client_for(admin_user).get("/apps/acme-web/"))
    section = page.split('id="collaborators"')[1].split("</section>")[0]
    assert f"/admin/dashboard/membership/?organization__id__exact={world.acme.pk}" in section


def test_a_new_member_shows_up_as_a_collaborator(world: World, alice: User) -> None:
    make_user("dave", org=world.acme, role=Membership.Role.MEMBER)
    assert "collaborator-" in text(client_for(alice).get("/apps/acme-web/"))
    assert "<strong>dave</strong>" in text(client_for(alice).get("/apps/acme-web/"))


def test_every_jump_link_leads_to_a_section_of_the_page(world: World, support: User) -> None:
    page = text(client_for(support).get("/apps/acme-web/"))
    nav = page.split('<nav class="jump-links" aria-label="On this page">')[1].split("</nav>")[0]
    targets = re.findall(r'href="#([\w-]+)"', nav)
    assert targets == [
        "app-live",
        "app-charts",
        "domains-panel",
        "readiness",
        "features-panel",
        "about",
        "collaborators",
        "backends-panel",
    ]
    for target in targets:
        assert page.count(f'id="{target}"') == 1, target
