"""Upgrades made before steps existed get their timeline back from the audit trail, each step
with its own note: the old single note had kept only the last one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("edges", "0006_live_numbers_leave_the_database")]
AFTER = [("edges", "0007_upgrade_steps")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema() -> Iterator[Any]:
    yield migrate(BEFORE)
    # Leave the database as every other test expects it: fully migrated.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_each_old_upgrade_gets_its_steps_and_their_own_notes(old_schema: Any) -> None:
    apps = old_schema
    user = apps.get_model("auth", "User").objects.create(username="alice")
    organization = apps.get_model("dashboard", "Organization").objects.create(name="acme")
    edge = apps.get_model("edges", "Edge").objects.create(
        name="acme-ssl",
        kind="custom_ssl",
        proxy="nginx_legacy",
        hostname="acme-ssl.edges.example.net",
        organization=organization,
    )
    upgrade = apps.get_model("edges", "EdgeUpgrade").objects.create(
        edge=edge, state="failed", from_proxy="nginx_legacy", note="disk full", requested_by=user
    )
    audit = apps.get_model("dashboard", "AuditEvent")
    for action, actor, reason, after in [
        ("upgrade.request", user, "Sunday please", {"state": "requested"}),
        ("upgrade.schedule", None, "", {"scheduled_for": "2026-12-06T02:00:00+00:00"}),
        ("upgrade.start", None, "", {}),
        ("upgrade.fail", None, "disk full", {}),
    ]:
        audit.objects.create(
            actor=actor,
            actor_label=actor.username if actor else "support",
            source="web",
            action=action,
            target_type="edgeupgrade",
            target_id=str(upgrade.pk),
            target_label="upgrade",
            after=after,
            reason=reason,
        )
    # One upgrade has no audit rows at all: it keeps its request and note.
    bare_edge = apps.get_model("edges", "Edge").objects.create(
        name="acme-ssl-2",
        kind="custom_ssl",
        proxy="nginx_legacy",
        hostname="acme-ssl-2.edges.example.net",
        organization=organization,
    )
    bare = apps.get_model("edges", "EdgeUpgrade").objects.create(
        edge=bare_edge, from_proxy="nginx_legacy", note="weekend", requested_by=user
    )

    apps = migrate(AFTER)

    steps = apps.get_model("edges", "UpgradeStep").objects.order_by("at", "id")
    timeline = [
        (s.action, s.actor_label, s.note, s.window is not None)
        for s in steps.filter(upgrade_id=upgrade.pk)
    ]
    assert timeline == [
        ("request", "alice", "Sunday please", False),
        ("schedule", "support", "", True),
        ("start", "support", "", False),
        ("fail", "support", "disk full", False),
    ]
    assert [(s.action, s.actor_label, s.note) for s in steps.filter(upgrade_id=bare.pk)] == [
        ("request", "alice", "weekend")
    ]
