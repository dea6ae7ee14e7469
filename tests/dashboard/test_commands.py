from __future__ import annotations

import io
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.models import ApiToken, App, AuditEvent
from dashboard.models.features import app_feature_states
from dashboard.services.rollout import rollout_bucket, rollout_plan
from shared.secret_tokens import hash_token
from tests.conftest import World
from tests.factories import PRE_GA, make_app


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def websockets_on(app: App) -> bool:
    app.refresh_from_db()
    return next(s.enabled for s in app_feature_states(app) if s.feature.name == "websockets")


# labs


def test_labs_list_shows_the_apps_features(world: World) -> None:
    out = run("labs", "list", "--app", "acme-api")
    assert "[+] websockets" in out
    assert "[ ] preboot" in out


def test_labs_enable_as_the_system_needs_a_reason(world: World) -> None:
    with pytest.raises(CommandError, match="--reason"):
        run("labs", "disable", "websockets", "--app", "acme-api")
    assert websockets_on(world.acme_api)


def test_labs_disable_prints_herokus_transcript_and_audits(world: World) -> None:
    out = run("labs", "disable", "websockets", "--app", "acme-api", "--reason", "ticket 5")
    assert out.strip() == "Disabling websockets for acme-api... done"
    event = AuditEvent.objects.get(action="feature.disable")
    assert (event.source, event.actor_label, event.reason) == ("cli", "system", "ticket 5")


def test_labs_enable_behind_a_legacy_edge_fails_with_the_refusal(world: World) -> None:
    with pytest.raises(CommandError) as error:
        run("labs", "enable", "websockets", "--app", "acme-web", "--reason", "try")
    assert str(error.value).startswith(
        "Can not add websockets feature when ssl-endpoint is in use."
    )
    assert "acme-ssl" in str(error.value)
    assert not websockets_on(world.acme_web)


def test_labs_as_a_staff_user(world: World, support: User) -> None:
    run("labs", "disable", "websockets", "--app", "acme-api", "--as", "support", "--reason", "x")
    assert AuditEvent.objects.get(action="feature.disable").actor == support


def test_labs_refuses_customers_as_actors(world: World, alice: User) -> None:
    with pytest.raises(CommandError, match="not a staff user"):
        run("labs", "disable", "websockets", "--app", "acme-api", "--as", "alice")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["enable", "websockets", "--app", "nope", "--reason", "x"], "Couldn't find that app"),
        (
            ["enable", "teleport", "--app", "acme-api", "--reason", "x"],
            "Couldn't find that feature",
        ),
    ],
)
def test_labs_unknown_names(world: World, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("labs", *args)


# api_token


def test_api_token_create_prints_the_token_once_and_stores_its_digest(alice: User) -> None:
    raw = run("api_token", "create", "alice", "--label", "laptop").strip()
    token = ApiToken.objects.get(user=alice, label="laptop")
    assert token.token_hash == hash_token(raw)
    listing = run("api_token", "list", "alice")
    assert token.prefix in listing and raw not in listing


def test_api_token_create_with_an_expiry_lists_when_it_expires(alice: User) -> None:
    run("api_token", "create", "alice", "--label", "ci", "--expires-in", "30")
    token = ApiToken.objects.get(user=alice, label="ci")
    assert token.expires_at is not None
    assert f"expires {token.expires_at.isoformat()}" in run("api_token", "list", "alice")
    with pytest.raises(CommandError, match="1 or more"):
        run("api_token", "create", "alice", "--expires-in", "0")


def test_api_token_revoke_by_prefix(alice: User) -> None:
    raw = run("api_token", "create", "alice").strip()
    out = run("api_token", "revoke", raw[:12])
    assert "Revoked" in out
    assert ApiToken.objects.get(token_hash=hash_token(raw)).revoked_at is not None


def test_api_token_errors(alice: User) -> None:
    with pytest.raises(CommandError, match="No user"):
        run("api_token", "create", "mallory")
    with pytest.raises(CommandError, match="No token"):
        run("api_token", "revoke", "pat_nothing")


# rollout_websockets


@pytest.fixture
def many_pre_ga_apps(world: World) -> list[App]:
    apps = [make_app(f"legacy-{n:03d}", org=world.globex, created_at=PRE_GA) for n in range(60)]
    # Ids fixed from the names, so which cohort each app falls in is the same on every run
    # (random ids left a 10 % cohort of 60 apps empty about once in 550 runs).
    for app in apps:
        app.uuid = uuid.uuid5(uuid.NAMESPACE_DNS, f"{app.name}.rollout.test")
        app.save(update_fields=["uuid"])
    return apps


def test_rollout_cohorts_grow_stably(many_pre_ga_apps: list[App]) -> None:
    ten = {d.app.name for d in rollout_plan(10)[0]}
    twenty_five = {d.app.name for d in rollout_plan(25)[0]}
    assert ten < twenty_five
    assert 0 < len(ten) < len(twenty_five) < 62


def test_rollout_bucket_is_stable_for_an_app(many_pre_ga_apps: list[App]) -> None:
    app = many_pre_ga_apps[0]
    assert rollout_bucket(app) == rollout_bucket(App.objects.get(pk=app.pk))


def test_rollout_dry_run_changes_nothing(many_pre_ga_apps: list[App]) -> None:
    before = AuditEvent.objects.count()
    out = run("rollout_websockets", "--percent", "100", "--dry-run")
    assert "Would enable websockets on 61 of 62 pre-GA apps" in out
    assert "skipped acme-web: behind legacy SSL edge acme-ssl" in out
    assert AuditEvent.objects.count() == before


def test_rollout_enables_the_cohort_with_one_audit_row_each(many_pre_ga_apps: list[App]) -> None:
    out = run("rollout_websockets", "--percent", "25")
    cohort = [d.app for d in rollout_plan(25)[0] if d.app.name != "acme-web"]
    rows = AuditEvent.objects.filter(source="rollout", action="feature.enable")
    assert rows.count() == len(cohort) > 0
    assert all(websockets_on(app) for app in cohort)
    assert "Done: enabled" in out
    # Running again at a higher percentage only adds apps.
    run("rollout_websockets", "--percent", "50")
    assert AuditEvent.objects.filter(source="rollout").count() == len(
        [d for d in rollout_plan(50)[0] if d.app.name != "acme-web"]
    )


def test_rollout_skips_apps_whose_owners_turned_websockets_off(
    many_pre_ga_apps: list[App], carol: User
) -> None:
    from dashboard.models import AppFeature, Feature

    app = many_pre_ga_apps[0]
    AppFeature.objects.create(
        app=app, feature=Feature.objects.get(name="websockets"), enabled=False, updated_by=carol
    )
    run("rollout_websockets", "--percent", "100")
    assert not websockets_on(app)


@pytest.mark.parametrize("percent", ["-1", "101", "ten"])
def test_rollout_refuses_bad_percentages(world: World, percent: str) -> None:
    with pytest.raises(CommandError, match="--percent"):
        run("rollout_websockets", "--percent", percent)
