"""Reasons written before they could be shared: members keep reading what they could (their own
words, upgrade notes); support's and the platform's other reasons become internal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("dashboard", "0005_preferences")]
AFTER = [("dashboard", "0006_audit_reason_shared")]


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


def test_members_keep_reading_what_they_could_and_support_reasons_turn_internal(
    old_schema: Any,
) -> None:
    users = old_schema.get_model("auth", "User").objects
    alice = users.create(username="alice")
    support = users.create(username="support", is_staff=True)
    audit = old_schema.get_model("dashboard", "AuditEvent").objects
    for action, actor, reason in [
        ("feature.disable", alice, "moving to SSE"),
        ("feature.enable", support, "ticket 4821: internal"),
        ("feature.enable", None, "rollout cohort 3"),
        ("upgrade.schedule", support, "at the customer's request"),
        ("feature.enable", alice, ""),
    ]:
        audit.create(
            actor=actor,
            actor_label=actor.username if actor else "system",
            source="web",
            action=action,
            target_type="app",
            target_id="1",
            target_label="acme-web",
            reason=reason,
        )

    rows = migrate(AFTER).get_model("dashboard", "AuditEvent").objects.order_by("id")
    assert [(row.reason, row.reason_shared) for row in rows] == [
        ("moving to SSE", True),
        ("ticket 4821: internal", False),
        ("rollout cohort 3", False),
        ("at the customer's request", True),
        ("", False),
    ]
