"""A model of the upgrade workflow and the websockets rules, driven by hypothesis.

Random sequences of requests, upgrade steps and feature switches by customers and staff run
against the real services; after every step the database must agree with the model, the rules
must hold, and the audit trail must have exactly one row per successful change.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from dashboard.models import App, AppFeature, AuditEvent, Feature, Membership
from dashboard.models.features import websockets_enabled
from dashboard.services.features import FeatureRefused, feature_set, legacy_ssl_edges
from edges.models import Edge, EdgeUpgrade
from edges.services.upgrades import UpgradeConflict, upgrade_request, upgrade_transition
from tests.conftest import IN_CI
from tests.factories import (
    POST_GA,
    PRE_GA,
    future_window,
    make_app,
    make_catalog,
    make_edge,
    make_org,
    make_ssl_edge,
    make_user,
)

# `make soak` raises this.
EXAMPLES = int(os.environ.get("STATEFUL_EXAMPLES", "60" if IN_CI else "30"))
# The windows a step may ask for: none, one in the past, and two in the future.
WINDOWS = {
    "none": None,
    "past": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    "soon": future_window(days=5),
    "later": future_window(days=9),
}
WINDOW_ACTIONS = {"schedule", "reschedule", "retry"}
ACTORS = ("alice", "bob", "carol", "support")
EDGES = ("acme-ssl", "acme-ssl-2", "globex-ssl", "gateway")
APPS = ("acme-web", "acme-api", "acme-both", "globex-store")
# The workflow as the product describes it, written out here rather than imported, so a change
# to the service's table shows up as a disagreement with the model.
STEPS = {
    "schedule": ({"requested"}, "scheduled"),
    "reschedule": ({"scheduled"}, "scheduled"),
    "start": ({"scheduled"}, "in_progress"),
    "complete": ({"in_progress"}, "completed"),
    "fail": ({"in_progress"}, "failed"),
    "cancel": ({"requested", "scheduled"}, "cancelled"),
    "retry": ({"failed"}, "scheduled"),
}


class Rejected(Exception):
    """What the model expects a refused call to raise."""


class UpgradeAndFeatureMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each run happens in a savepoint that teardown rolls back: a fresh world every time.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        make_catalog()
        acme, globex = make_org("acme"), make_org("globex")
        self.users = {
            "alice": make_user("alice", org=acme, role=Membership.Role.OWNER),
            "bob": make_user("bob", org=acme),
            "carol": make_user("carol", org=globex, role=Membership.Role.OWNER),
            "support": make_user("support", staff=True),
        }
        self.member_of = {"alice": "acme", "bob": "acme", "carol": "globex", "support": None}
        gateway = make_edge("gateway", hostname="gateway.example.net")
        acme_ssl = make_ssl_edge("acme-ssl", org=acme, common_name="www.acme.example")
        acme_ssl_2 = make_ssl_edge("acme-ssl-2", org=acme, common_name="api.acme.example")
        globex_ssl = make_ssl_edge(
            "globex-ssl", org=globex, proxy=Edge.Proxy.HIPACHE, common_name="shop.globex.example"
        )
        self.edges = {e.name: e for e in (acme_ssl, acme_ssl_2, globex_ssl, gateway)}
        self.apps = {
            "acme-web": make_app(
                "acme-web", org=acme, created_at=PRE_GA, custom=[("www.acme.example", acme_ssl)]
            ),
            "acme-api": make_app("acme-api", org=acme, created_at=POST_GA),
            "acme-both": make_app(
                "acme-both",
                org=acme,
                created_at=PRE_GA,
                custom=[("a.acme.example", acme_ssl), ("b.acme.example", acme_ssl_2)],
            ),
            "globex-store": make_app(
                "globex-store",
                org=globex,
                created_at=PRE_GA,
                custom=[("shop.globex.example", globex_ssl)],
            ),
        }
        self.websockets = Feature.objects.get(name="websockets")
        # The model.
        self.proxy = {name: edge.proxy for name, edge in self.edges.items()}
        self.upgrade: dict[str, tuple[int, str] | None] = dict.fromkeys(self.edges)
        # Each upgrade's window and its timeline: (action, who, note) per step, oldest first.
        self.window: dict[int, dt.datetime | None] = {}
        self.steps: dict[int, list[tuple[str, str, str]]] = {}
        self.enabled = dict(
            zip(self.apps, websockets_enabled(list(self.apps.values())).values(), strict=True)
        )
        self.custom_edges = {
            "acme-web": {"acme-ssl"},
            "acme-api": set(),
            "acme-both": {"acme-ssl", "acme-ssl-2"},
            "globex-store": {"globex-ssl"},
        }
        self.audit_rows = AuditEvent.objects.count()
        self.changes = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def attempt(self, expected: type[Exception] | None, call: Any) -> bool:
        """Run a service call; it must fail exactly when and how the model says."""
        try:
            with transaction.atomic():
                call()
        except (PermissionDenied, ValidationError, UpgradeConflict) as error:
            assert expected is not None, f"refused unexpectedly: {error!r}"
            assert isinstance(error, expected), f"expected {expected.__name__}, got {error!r}"
            return False
        assert expected is None, f"expected {expected.__name__}, but it succeeded"
        self.changes += 1
        return True

    # Rules

    @rule(edge=st.sampled_from(EDGES[:2] * 3 + EDGES[2:]), who=st.sampled_from(ACTORS))
    def request_upgrade(self, edge: str, who: str) -> None:
        owner = self.edges[edge].organization.name if self.edges[edge].organization else None
        expected: type[Exception] | None = None
        if who != "support" and self.member_of[who] != owner:
            expected = PermissionDenied
        elif edge == "gateway" or self.proxy[edge] == Edge.Proxy.HIPACHE:
            expected = ValidationError
        elif self.upgrade[edge] is not None and self.upgrade[edge][1] in EdgeUpgrade.OPEN_STATES:
            expected = UpgradeConflict
        if self.attempt(
            expected,
            lambda: upgrade_request(
                edge=self.edges[edge], actor=self.users[who], source="web", note=f"ticket {who}"
            ),
        ):
            row = EdgeUpgrade.objects.filter(edge__name=edge).order_by("-id").first()
            self.upgrade[edge] = (row.pk, EdgeUpgrade.State.REQUESTED)
            self.window[row.pk] = None
            self.steps[row.pk] = [("request", who, f"ticket {who}")]

    def upgraded_edges(self) -> list[str]:
        return [name for name, current in self.upgrade.items() if current is not None]

    @precondition(lambda self: bool(self.upgraded_edges()))
    @rule(data=st.data())
    def advance_upgrade(self, data: Any) -> None:
        """Support takes a step the upgrade can take, so runs get deep into the workflow."""
        edge = data.draw(st.sampled_from(self.upgraded_edges()), label="edge")
        pk, state = self.upgrade[edge]
        possible = sorted(a for a, (sources, _) in STEPS.items() if state in sources)
        if possible:
            action = data.draw(st.sampled_from(possible), label="action")
            window = "later" if self.window[pk] == WINDOWS["soon"] else "soon"
            self.move(edge, action, "support", "the window overran", window=window)

    @precondition(lambda self: bool(self.upgraded_edges()))
    @rule(
        data=st.data(),
        action=st.sampled_from(sorted(STEPS)),
        who=st.sampled_from(("support", "alice", "bob")),
        note=st.sampled_from(("", "the window overran", "customer asked for Sunday")),
        window=st.sampled_from(sorted(WINDOWS)),
        stale=st.booleans(),
    )
    def attempt_any_step(
        self, data: Any, action: str, who: str, note: str, window: str, stale: bool
    ) -> None:
        """Anyone tries any step, from whatever state, with or without what it needs; a start
        may come from someone who saw an older window."""
        edge = data.draw(st.sampled_from(self.upgraded_edges()), label="edge")
        self.move(edge, action, who, note, window=window, stale=stale)

    def move(
        self, edge: str, action: str, who: str, note: str, *, window: str, stale: bool = False
    ) -> None:
        pk, state = self.upgrade[edge]
        allowed, to_state = STEPS[action]
        wanted = WINDOWS[window]
        current = self.window[pk]
        seen = current - dt.timedelta(hours=1) if stale and current else current
        expected: type[Exception] | None = None
        if who != "support":
            expected = PermissionDenied
        elif state not in allowed or (action == "start" and seen != current):
            expected = UpgradeConflict
        bad_window = action in WINDOW_ACTIONS and (
            wanted is None or window == "past" or (action == "reschedule" and wanted == current)
        )
        if expected is None and (bad_window or (action == "fail" and not note)):
            expected = ValidationError
        ok = self.attempt(
            expected,
            lambda: upgrade_transition(
                upgrade=EdgeUpgrade.objects.get(pk=pk),
                action=action,
                actor=self.users[who],
                source="api",
                scheduled_for=wanted,
                note=note,
                window_seen=seen,
            ),
        )
        if ok:
            self.upgrade[edge] = (pk, to_state)
            self.steps[pk].append((action, who, note))
            if action in WINDOW_ACTIONS:
                self.window[pk] = wanted
            if to_state == EdgeUpgrade.State.COMPLETED:
                self.proxy[edge] = Edge.Proxy.HIPACHE

    @rule(
        app=st.sampled_from(APPS),
        enabled=st.booleans(),
        who=st.sampled_from(ACTORS),
        reason=st.sampled_from(("", "customer asked in ticket 4411")),
    )
    def switch_websockets(self, app: str, enabled: bool, who: str, reason: str) -> None:
        org = self.apps[app].organization.name
        legacy = any(self.proxy[e] == Edge.Proxy.NGINX_LEGACY for e in self.custom_edges[app])
        expected: type[Exception] | None = None
        if who == "support":
            expected = ValidationError if not reason else None
        elif self.member_of[who] != org:
            expected = PermissionDenied
        changes = self.enabled[app] != enabled
        if expected is None and changes and enabled and legacy:
            expected = FeatureRefused
        if expected is None and not changes:
            # Setting the state an app already has succeeds and writes nothing.
            feature_set(
                app=self.apps[app],
                feature=self.websockets,
                enabled=enabled,
                actor=self.users[who],
                source="web",
                reason=reason,
            )
            return
        if self.attempt(
            expected,
            lambda: feature_set(
                app=self.apps[app],
                feature=self.websockets,
                enabled=enabled,
                actor=self.users[who],
                source="web",
                reason=reason,
            ),
        ):
            self.enabled[app] = enabled

    # Invariants

    @invariant()
    def audit_rows_equal_successful_changes(self) -> None:
        assert AuditEvent.objects.count() == self.audit_rows + self.changes

    @invariant()
    def upgrades_match_the_model_and_one_is_open_per_edge(self) -> None:
        for name, edge in self.edges.items():
            edge.refresh_from_db()
            assert edge.proxy == self.proxy[name]
            assert EdgeUpgrade.objects.open().filter(edge=edge).count() <= 1
            if self.upgrade[name] is not None:
                pk, state = self.upgrade[name]
                upgrade = EdgeUpgrade.objects.get(pk=pk)
                assert (upgrade.state, upgrade.scheduled_for) == (state, self.window[pk])

    @invariant()
    def every_step_keeps_its_own_actor_and_note(self) -> None:
        for pk, expected in self.steps.items():
            upgrade = EdgeUpgrade.objects.get(pk=pk)
            timeline = [(s.action, s.actor_label, s.note) for s in upgrade.timeline()]
            assert timeline == expected
            assert upgrade.request_note == expected[0][2]

    @invariant()
    def websockets_state_matches_and_never_runs_through_a_legacy_edge(self) -> None:
        apps = list(App.objects.filter(name__in=APPS))
        stored = websockets_enabled(apps)
        for app in apps:
            assert stored[app.pk] == self.enabled[app.name]
        switched_on = AppFeature.objects.filter(feature=self.websockets, enabled=True)
        for row in switched_on.select_related("app"):
            assert legacy_ssl_edges(row.app) == [], f"{row.app} has websockets on a legacy edge"


@pytest.mark.django_db
def test_the_upgrade_workflow_and_feature_rules_hold_for_any_sequence_of_steps() -> None:
    run_state_machine_as_test(
        UpgradeAndFeatureMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
