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
    make_app,
    make_catalog,
    make_edge,
    make_org,
    make_ssl_edge,
    make_user,
)

# `make soak` raises this.
EXAMPLES = int(os.environ.get("STATEFUL_EXAMPLES", "60" if IN_CI else "30"))
WINDOW = dt.datetime(2026, 12, 6, 2, tzinfo=dt.UTC)
ACTORS = ("alice", "bob", "carol", "support")
EDGES = ("acme-ssl", "acme-ssl-2", "globex-ssl", "gateway")
APPS = ("acme-web", "acme-api", "acme-both", "globex-store")
# The workflow as the product describes it, written out here rather than imported, so a change
# to the service's table shows up as a disagreement with the model.
STEPS = {
    "schedule": ({"requested"}, "scheduled"),
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
                edge=self.edges[edge], actor=self.users[who], source="web", note="ticket"
            ),
        ):
            row = EdgeUpgrade.objects.filter(edge__name=edge).order_by("-id").first()
            self.upgrade[edge] = (row.pk, EdgeUpgrade.State.REQUESTED)

    def upgraded_edges(self) -> list[str]:
        return [name for name, current in self.upgrade.items() if current is not None]

    @precondition(lambda self: bool(self.upgraded_edges()))
    @rule(data=st.data())
    def advance_upgrade(self, data: Any) -> None:
        """Support takes a step the upgrade can take, so runs get deep into the workflow."""
        edge = data.draw(st.sampled_from(self.upgraded_edges()), label="edge")
        state = self.upgrade[edge][1]
        possible = sorted(a for a, (sources, _) in STEPS.items() if state in sources)
        if possible:
            action = data.draw(st.sampled_from(possible), label="action")
            self.move(edge, action, "support", "the window overran", with_window=True)

    @precondition(lambda self: bool(self.upgraded_edges()))
    @rule(
        data=st.data(),
        action=st.sampled_from(sorted(STEPS)),
        who=st.sampled_from(("support", "alice", "bob")),
        note=st.sampled_from(("", "the window overran")),
        with_window=st.booleans(),
    )
    def attempt_any_step(
        self, data: Any, action: str, who: str, note: str, with_window: bool
    ) -> None:
        """Anyone tries any step, from whatever state, with or without what it needs."""
        edge = data.draw(st.sampled_from(self.upgraded_edges()), label="edge")
        self.move(edge, action, who, note, with_window=with_window)

    def move(self, edge: str, action: str, who: str, note: str, *, with_window: bool) -> None:
        pk, state = self.upgrade[edge]
        allowed, to_state = STEPS[action]
        expected: type[Exception] | None = None
        if who != "support":
            expected = PermissionDenied
        elif state not in allowed:
            expected = UpgradeConflict
        elif (action in ("schedule", "retry") and not with_window) or (
            action == "fail" and not note
        ):
            expected = ValidationError
        ok = self.attempt(
            expected,
            lambda: upgrade_transition(
                upgrade=EdgeUpgrade.objects.get(pk=pk),
                action=action,
                actor=self.users[who],
                source="api",
                scheduled_for=WINDOW if with_window else None,
                note=note,
            ),
        )
        if ok:
            self.upgrade[edge] = (pk, to_state)
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
                assert EdgeUpgrade.objects.get(pk=pk).state == state

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
