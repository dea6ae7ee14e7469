"""Hostile strings: look-alike letters, control, invisible and direction characters, markup.

Identifiers (names, hostnames, addresses) refuse all of them; free text (reasons, notes, labels,
display names) refuses all but markup, which templates escape. Each refusal is a clear message
through every door: the services, the web forms, the admin site, the API, commands and ingest.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dashboard.models import ApiToken, App, AuditEvent, Domain, Feature, Organization
from dashboard.services.accounts import organization_create, user_create
from dashboard.services.apps import app_create, backend_add
from dashboard.services.domains import domain_add
from dashboard.services.features import account_feature_set, feature_define, feature_set
from dashboard.services.tokens import api_token_create
from edges.api.ingest_payloads import parse_config_status, parse_report
from edges.models import Edge, EdgeUpgrade
from edges.services.edges import certificate_set, edge_create, edge_ingest_token_rotate
from edges.services.upgrades import upgrade_request, upgrade_transition
from shared.errors import ApiError
from shared.validators import (
    describe_char,
    normalize_hostname,
    validate_hostname,
    validate_line,
    validate_text,
)
from tests.conftest import World, client_for
from tests.dashboard.test_api import Api, api_for
from tests.factories import future_window

# Each hostile class, with the text its refusal names.
LOOKALIKES = {
    "cyrillic a": ("\u0430cme", "U+0430 CYRILLIC SMALL LETTER A"),
    "fullwidth a": ("\uff41cme", "U+FF41 FULLWIDTH LATIN SMALL LETTER A"),
    "kelvin sign": ("\u212acme", "U+212A KELVIN SIGN"),
    "greek omicron": ("ec\u03bfnomy", "U+03BF GREEK SMALL LETTER OMICRON"),
}
INVISIBLES = {
    "zero width space": ("ac\u200bme", "U+200B ZERO WIDTH SPACE"),
    "byte order mark": ("\ufeffacme", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    "word joiner": ("ac\u2060me", "U+2060 WORD JOINER"),
}
DIRECTIONS = {
    "right-to-left override": ("acme\u202egpj", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "right-to-left isolate": ("acme\u2067x", "U+2067 RIGHT-TO-LEFT ISOLATE"),
}
CONTROLS = {
    "null": ("ac\x00me", "U+0000, a control character"),
    "escape": ("ac\x1b[31mme", "U+001B, a control character"),
    "delete": ("acme\x7f", "U+007F, a control character"),
    "line separator": ("ac\u2028me", "U+2028 LINE SEPARATOR"),
}
NON_ASCII = {**LOOKALIKES, **INVISIBLES, **DIRECTIONS}
MARKUP = ["<script>alert(1)</script>", 'acme"><img src=x onerror=alert(1)>', "<b>acme</b>"]

# Free text refuses these three classes; look-alike letters and markup are fine in prose.
TEXT_REFUSALS = {**INVISIBLES, **DIRECTIONS, **CONTROLS}


def ids(cases: dict[str, Any]) -> list[str]:
    return list(cases)


# Identifiers


@pytest.mark.parametrize(("name", "named"), NON_ASCII.values(), ids=ids(NON_ASCII))
def test_app_names_with_non_ascii_characters_are_refused_naming_the_character(
    world: World, name: str, named: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        app_create(name=f"{name}-web", organization=world.acme, actor=None, source="cli")
    assert named in refused.value.messages[0]
    assert not App.objects.filter(name=f"{name}-web").exists()


@pytest.mark.parametrize("name", [c[0] for c in CONTROLS.values()] + MARKUP)
def test_app_names_with_control_characters_or_markup_are_refused(world: World, name: str) -> None:
    with pytest.raises(ValidationError, match="App name"):
        app_create(name=name, organization=world.acme, actor=None, source="cli")
    assert App.objects.count() == 3


@pytest.mark.parametrize(("name", "named"), NON_ASCII.values(), ids=ids(NON_ASCII))
def test_organization_and_edge_names_refuse_non_ascii(db: None, name: str, named: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(named)):
        organization_create(name=name, actor=None, source="cli")
    with pytest.raises(ValidationError, match=re.escape(named)):
        edge_create(
            name=name,
            hostname="edge.example.net",
            kind=Edge.Kind.GATEWAY,
            proxy=Edge.Proxy.HIPACHE,
            region="us",
            actor=None,
            source="cli",
        )
    assert not Organization.objects.exists()
    assert not Edge.objects.exists()


@pytest.mark.parametrize(
    ("hostname", "named"),
    [(f"www.{name}.example", named) for name, named in NON_ASCII.values()],
    ids=ids(NON_ASCII),
)
def test_custom_domains_refuse_non_ascii_hostnames(
    world: World, alice: User, hostname: str, named: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        domain_add(app=world.acme_api, hostname=hostname, actor=alice, source="web")
    assert "punycode" in refused.value.messages[0]
    assert named in refused.value.messages[0]
    assert not world.acme_api.domains.filter(kind=Domain.Kind.CUSTOM).exists()


def test_lowercasing_does_not_turn_a_look_alike_into_ascii(world: World, alice: User) -> None:
    # str.lower() maps the Kelvin sign to "k": normalising first would let it in as kcme.
    assert normalize_hostname("WWW.\u212aCME.example") == "WWW.\u212aCME.example"
    with pytest.raises(ValidationError, match="U\\+212A KELVIN SIGN"):
        domain_add(app=world.acme_api, hostname="www.\u212acme.example", actor=alice, source="web")
    assert not Domain.objects.filter(hostname="www.kcme.example").exists()


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("www.xn--pple-43d.com", "mixes Cyrillic and Latin letters"),
        ("xn--ls8h.example", "U+1F4A9 PILE OF POO"),
        ("xn--zz.example", "not a valid punycode"),
        ("xn--abc.example", "U+0082, a control character"),
        ("xn--acme.example", "U+0080, a control character"),
        ("xn--a-qgn.example", "U+200B ZERO WIDTH SPACE"),
        ("xn--bc-bz3n.example", "not in canonical form"),
    ],
)
def test_punycode_labels_must_stand_for_a_plausible_name(
    world: World, alice: User, hostname: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        domain_add(app=world.acme_api, hostname=hostname, actor=alice, source="web")
    assert message in refused.value.messages[0]


@pytest.mark.parametrize(
    "hostname", ["xn--bcher-kva.ch", "www.xn--80ak6aa92e.com", "xn--ca-yia.fr"]
)
def test_internationalised_hostnames_are_accepted_as_punycode_and_kept_so(
    world: World, alice: User, hostname: str
) -> None:
    domain = domain_add(app=world.acme_api, hostname=hostname, actor=alice, source="web")
    assert Domain.objects.get(pk=domain.pk).hostname == hostname


@pytest.mark.parametrize("hostname", [c[0] + ".example" for c in CONTROLS.values()] + MARKUP)
def test_hostnames_with_control_characters_or_markup_are_refused(hostname: str) -> None:
    with pytest.raises(ValidationError):
        validate_hostname(hostname)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("www.\u0430cme.example", "common_name"),
        ("*.ac\u200bme.example", "common_name"),
        ("<b>.acme.example", "common_name"),
    ],
)
def test_certificate_names_follow_the_hostname_rules(world: World, name: str, field: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(ValidationError) as refused:
        certificate_set(
            edge=world.acme_ssl,
            common_name=name,
            sans=[],
            issuer="Test CA",
            not_before=now,
            not_after=now + dt.timedelta(days=1),
            actor=None,
            source="cli",
        )
    assert field in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        certificate_set(
            edge=world.acme_ssl,
            common_name="www.acme.example",
            sans=["*.acme.example", name],
            issuer="Test CA \u202e",
            not_before=now,
            not_after=now + dt.timedelta(days=1),
            actor=None,
            source="cli",
        )
    assert set(refused.value.message_dict) == {"sans", "issuer"}
    assert world.acme_ssl.certificate.common_name == "www.acme.example"


@pytest.mark.parametrize(
    "address",
    [
        "[fe80::1%<img src=x onerror=alert(1)>]:8080",
        "[fe80::1%\u202e]:8080",
        "10.0.0.\uff11:8080",
        "10.0.0.1:80\u200b",
        "10.0.0.1\x00:8080",
        "<script>:8080",
    ],
)
def test_backend_addresses_refuse_zones_non_ascii_and_markup(
    world: World, support: User, address: str
) -> None:
    with pytest.raises(ValidationError):
        backend_add(app=world.acme_web, address=address, actor=support, source="web")
    assert not world.acme_web.backends.exists()


@pytest.mark.parametrize(("name", "named"), NON_ASCII.values(), ids=ids(NON_ASCII))
def test_usernames_refuse_look_alikes_that_django_alone_would_allow(
    db: None, name: str, named: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        user_create(username=f"{name}-ops", email="", password="x", actor=None, source="cli")
    assert named in refused.value.message_dict["username"][0]
    assert not User.objects.exists()


# Free text


@pytest.mark.parametrize(("text", "named"), TEXT_REFUSALS.values(), ids=ids(TEXT_REFUSALS))
def test_reasons_refuse_control_invisible_and_direction_characters(
    world: World, support: User, text: str, named: str
) -> None:
    websockets = Feature.objects.get(name="websockets")
    with pytest.raises(ValidationError) as refused:
        feature_set(
            app=world.acme_api,
            feature=websockets,
            enabled=False,
            actor=support,
            source="web",
            reason=f"ticket 4821 {text}",
        )
    assert refused.value.messages[0].startswith("The reason cannot contain")
    assert named in refused.value.messages[0]
    assert not AuditEvent.objects.filter(action="feature.disable").exists()


@pytest.mark.parametrize(("text", "named"), TEXT_REFUSALS.values(), ids=ids(TEXT_REFUSALS))
def test_upgrade_notes_refuse_them_on_request_and_on_every_step(
    world: World, support: User, alice: User, text: str, named: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(named)):
        upgrade_request(edge=world.acme_ssl, actor=alice, source="web", note=text)
    assert not EdgeUpgrade.objects.exists()
    upgrade = upgrade_request(edge=world.acme_ssl, actor=alice, source="web", note="Sunday")
    with pytest.raises(ValidationError, match=re.escape(named)):
        upgrade_transition(
            upgrade=upgrade,
            action="cancel",
            actor=support,
            source="web",
            note=text,
        )
    upgrade.refresh_from_db()
    assert upgrade.state == EdgeUpgrade.State.REQUESTED
    assert [(step.action, step.note) for step in upgrade.timeline()] == [("request", "Sunday")]


@pytest.mark.parametrize(("text", "named"), TEXT_REFUSALS.values(), ids=ids(TEXT_REFUSALS))
def test_token_labels_and_display_names_refuse_them(alice: User, text: str, named: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(named)):
        api_token_create(user=alice, label=f"deploy {text}", actor=alice, source="web")
    with pytest.raises(ValidationError) as refused:
        organization_create(
            name="initech", display_name=f"Initech {text}", actor=None, source="cli"
        )
    assert named in refused.value.message_dict["display_name"][0]
    with pytest.raises(ValidationError) as refused:
        feature_define(name="spdy", actor=None, source="cli", display_name="SPDY", description=text)
    assert named in refused.value.message_dict["description"][0]
    assert not ApiToken.objects.exists()
    assert not Organization.objects.filter(name="initech").exists()
    assert not Feature.objects.filter(name="spdy").exists()


def test_one_line_fields_refuse_line_breaks_that_notes_accept(
    world: World, alice: User, support: User
) -> None:
    with pytest.raises(ValidationError, match="one line"):
        api_token_create(user=alice, label="deploy\nscript", actor=alice, source="web")
    with pytest.raises(ValidationError, match="one line"):
        validate_line("Acme\r\nCorporation", what="The display name")
    upgrade = upgrade_request(
        edge=world.acme_ssl, actor=alice, source="web", note="Sunday night\nor Monday early"
    )
    assert upgrade.request_note == "Sunday night\nor Monday early"


def test_free_text_keeps_markup_look_alikes_and_emoji_for_the_templates_to_escape(
    world: World, support: User
) -> None:
    reason = '<script>alert(1)</script> Ticket №4821 for Алиса 👩\u200d💻 &amp; "quotes"\ttab'
    feature_set(
        app=world.acme_api,
        feature=Feature.objects.get(name="websockets"),
        enabled=False,
        actor=support,
        source="web",
        reason=reason,
    )
    assert AuditEvent.objects.get(action="feature.disable").reason == reason
    assert validate_text("non\u00a0breaking space") == "non\u00a0breaking space"


def test_account_feature_reasons_are_checked_too(world: World, support: User, bob: User) -> None:
    feature = Feature.objects.filter(scope=Feature.Scope.ACCOUNT).first()
    assert feature is not None
    with pytest.raises(ValidationError, match="U\\+202E"):
        account_feature_set(
            user=bob, feature=feature, enabled=True, actor=support, source="web", reason="\u202e"
        )


def test_messages_name_characters_instead_of_repeating_them() -> None:
    for text in ["a\u202eb", "a\x1bb", "a\u200bb"]:
        with pytest.raises(ValidationError) as refused:
            validate_text(text, what="The note")
        assert text[1] not in refused.value.messages[0]
    assert describe_char("\ud800") == "U+D800, half of a surrogate pair"


def test_a_form_without_the_field_is_not_blamed_for_its_stored_value(world: World) -> None:
    domain = world.acme_web.domains.get(kind=Domain.Kind.DEFAULT)
    domain.dns_seen_target = "seen\u202e"
    domain.full_clean(exclude=["dns_seen_target"])
    with pytest.raises(ValidationError) as refused:
        domain.full_clean()
    assert "U+202E" in refused.value.message_dict["dns_seen_target"][0]


# The doors: web forms, admin site, API, commands, ingest


def test_the_token_form_answers_a_hostile_label_with_a_field_error(alice: User) -> None:
    response = client_for(alice).post("/account/tokens/", {"label": "deploy\u202escript"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'class="field-error" role="alert"' in page
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in page
    assert not ApiToken.objects.filter(user=alice).exists()


def test_sign_in_throttles_hostile_usernames_like_any_other(world: World) -> None:
    client = Client()
    username = "<script>alert(1)</script> \x1b\u202e admin"
    for _ in range(5):
        response = client.post("/login/", {"username": username, "password": "wrong"})
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert client.post("/login/", {"username": username, "password": "x"}).status_code == 429


def test_the_feature_form_answers_a_hostile_reason_with_a_field_error(
    world: World, support: User
) -> None:
    response = client_for(support).post(
        "/apps/acme-api/features/", {"toggle": "websockets:off", "reason": "ticket\x00"}
    )
    assert response.status_code == 422
    assert "The reason cannot contain control characters" in response.content.decode()
    assert not AuditEvent.objects.filter(action="feature.disable").exists()


def test_the_upgrade_form_reports_a_look_alike_cname_target(world: World, support: User) -> None:
    upgrade = upgrade_request(edge=world.acme_ssl, actor=support, source="web", note="")
    for action in ("schedule", "start"):
        upgrade_transition(
            upgrade=upgrade,
            action=action,
            actor=support,
            source="web",
            scheduled_for=future_window(),
        )
    response = client_for(support).post(
        f"/edges/acme-ssl/upgrades/{upgrade.pk}/complete/",
        {"new_hostname": "edge.\u0430cme.example"},
        follow=True,
    )
    assert "U+0430 CYRILLIC SMALL LETTER A" in response.content.decode()
    upgrade.refresh_from_db()
    assert upgrade.state == EdgeUpgrade.State.IN_PROGRESS


def test_the_admin_site_refuses_hostile_display_names_and_usernames(admin_user: User) -> None:
    client = client_for(admin_user)
    response = client.post(
        "/admin/dashboard/organization/add/",
        {
            "name": "initech",
            "display_name": "Initech\u202e",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in response.content.decode()
    assert not Organization.objects.filter(name="initech").exists()
    response = client.post(
        "/admin/auth/user/add/",
        {"username": "\u0430lice", "password1": "", "password2": "", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert "U+0430 CYRILLIC SMALL LETTER A" in response.content.decode()
    assert not User.objects.filter(username="\u0430lice").exists()
    response = client.post(
        f"/admin/auth/user/{admin_user.pk}/change/",
        {
            "username": "admin",
            "first_name": "Ada\x1b[2J",
            "last_name": "Lovelace",
            "email": "",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert "The first name cannot contain control characters" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.first_name == ""


def test_the_admin_site_refuses_a_hostile_certificate_issuer(
    world: World, admin_user: User
) -> None:
    certificate = world.acme_ssl.certificate
    response = client_for(admin_user).post(
        f"/admin/edges/certificate/{certificate.pk}/change/",
        {
            "edge": world.acme_ssl.pk,
            "common_name": "www.acme.example",
            "sans": "[]",
            "issuer": "Evil \u2066CA",
            "not_before_0": "2026-01-01",
            "not_before_1": "00:00:00",
            "not_after_0": "2027-01-01",
            "not_after_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    assert "The issuer cannot contain characters that change the direction" in (
        response.content.decode()
    )
    certificate.refresh_from_db()
    assert certificate.issuer == "Test CA"


@pytest.fixture
def alice_api(alice: User) -> Api:
    return api_for(alice)


@pytest.fixture
def support_api(support: User) -> Api:
    return api_for(support)


def assert_invalid_params(response: Any, named: str) -> None:
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["id"] == "invalid_params"
    assert named in body["message"]


@pytest.mark.parametrize(("name", "named"), NON_ASCII.values(), ids=ids(NON_ASCII))
def test_the_api_refuses_look_alike_domains_with_a_json_error(
    world: World, alice_api: Api, name: str, named: str
) -> None:
    response = alice_api.post("/apps/acme-api/domains", {"hostname": f"www.{name}.example"})
    assert_invalid_params(response, named)
    assert not Domain.objects.filter(app=world.acme_api, kind=Domain.Kind.CUSTOM).exists()


@pytest.mark.parametrize(("text", "named"), TEXT_REFUSALS.values(), ids=ids(TEXT_REFUSALS))
def test_the_api_refuses_hostile_reasons_and_notes_with_a_json_error(
    world: World, support_api: Api, text: str, named: str
) -> None:
    response = support_api.patch(
        "/apps/acme-api/features/websockets", {"enabled": False, "reason": f"ticket {text}"}
    )
    assert_invalid_params(response, named)
    response = support_api.post("/edges/acme-ssl/upgrades", {"note": text})
    assert_invalid_params(response, named)
    assert not AuditEvent.objects.filter(action__in=["feature.disable", "upgrade.request"]).exists()


def test_the_api_refuses_a_lone_surrogate_instead_of_failing_to_store_it(
    world: World, support_api: Api
) -> None:
    body = b'{"enabled": false, "reason": "ticket \\ud800"}'
    response = support_api.client.patch(
        "/apps/acme-api/features/websockets",
        data=body,
        content_type="application/json",
        headers=support_api.headers,
    )
    assert_invalid_params(response, "U+D800")


def test_the_api_refuses_a_backend_address_with_a_zone(world: World, support_api: Api) -> None:
    response = support_api.post("/apps/acme-web/backends", {"address": "[fe80::1%<script>]:8080"})
    assert_invalid_params(response, "zone")
    assert not world.acme_web.backends.exists()


def test_commands_refuse_hostile_input_with_a_one_line_error(world: World, alice: User) -> None:
    gateway = ["--kind", "gateway", "--proxy", "hipache"]
    cases = [
        (["edges", "create", "\u0430cme-edge", "--hostname", "e.example.net", *gateway], "U+0430"),
        (
            ["edges", "create", "acme-edge", "--hostname", "\u212acme.example.net", *gateway],
            "U+212A KELVIN SIGN",
        ),
        (["edges", "upgrade", "request", "acme-ssl", "--note", "Sunday\u202e"], "U+202E"),
        (["api_token", "create", "alice", "--label", "ci\u200b"], "U+200B"),
        (
            ["labs", "disable", "websockets", "--app", "acme-api", "--reason", "ticket\x07"],
            "U+0007, a control character",
        ),
    ]
    for args, named in cases:
        with pytest.raises(CommandError) as refused:
            call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
        message = str(refused.value)
        assert named in message, args
        assert "\n" not in message
    assert not Edge.objects.filter(name__startswith="acme-edge").exists()
    assert not EdgeUpgrade.objects.exists()
    assert not ApiToken.objects.filter(user=alice).exists()


def ingest(token: str, path: str, body: dict[str, Any]) -> Any:
    return Client().post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def report(frontend: dict[str, Any]) -> dict[str, Any]:
    return {"edge": "gateway", "seq": 1, "sent_at": "2026-11-21T10:00:00Z", "frontends": [frontend]}


@pytest.mark.parametrize(
    "frontend",
    [
        {"hostname": "acme-web.\u0435xample.net", "connections": 1},
        {"hostname": "\u212aacme-web.example.net", "connections": 1},
        {"hostname": "acme-web.example.net\u200b", "connections": 1},
        {"hostname": "<script>.example.net", "connections": 1},
        {"hostname": "xn--pple-43d.example.net", "connections": 1},
        {
            "hostname": "acme-web.example.net",
            "connections": 1,
            "backends": [{"address": "<img src=x onerror=alert(1)>", "connections": 1}],
        },
        {
            "hostname": "acme-web.example.net",
            "connections": 1,
            "backends": [{"address": "10.0.0.1:80\u202e", "connections": 1}],
        },
    ],
)
def test_ingest_refuses_hostile_hostnames_and_addresses_with_a_json_error(
    world: World, frontend: dict[str, Any]
) -> None:
    token = edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    response = ingest(token, "/ingest/v1/reports", report(frontend))
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"
    assert response.json()["message"].startswith("frontends[0]")
    world.gateway.refresh_from_db()
    assert world.gateway.last_seq is None


def test_ingest_keeps_ascii_hostnames_it_can_match_and_normalises_case(world: World) -> None:
    body = json.dumps(report({"hostname": "ACME-WEB.example.net.", "connections": 3})).encode()
    parsed = parse_report(body, "application/json")
    assert parsed.frontends[0].hostname == "acme-web.example.net"


def test_agent_messages_lose_direction_and_control_characters_and_etags_must_be_ascii() -> None:
    body = {"status": "rejected", "etag": '"abc"', "message": "line 1\u202e\x1b[31m\nline 2"}
    status = parse_config_status(json.dumps(body).encode(), "application/json")
    assert status.message == "line 1[31m\nline 2"
    with pytest.raises(ApiError, match="etag"):
        parse_config_status(json.dumps({**body, "etag": '"\uff41bc"'}).encode(), "application/json")
