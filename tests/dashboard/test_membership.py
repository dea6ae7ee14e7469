"""Who belongs to an organization, and as what: one service for the admin and the API."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections

from dashboard.models import AuditEvent, Membership, Organization
from dashboard.services import accounts
from dashboard.services.accounts import membership_remove, membership_set
from tests.conftest import World
from tests.naive import checks_meet, without_row_locks

pytestmark = pytest.mark.django_db(transaction=True)
OWNER, MEMBER = Membership.Role.OWNER, Membership.Role.MEMBER


def owners(world: World) -> list[str]:
    rows = Membership.objects.filter(organization=world.acme, role=OWNER)
    return sorted(rows.values_list("user__username", flat=True))


def test_support_may_not_take_away_the_last_owner_either(
    world: World, alice: User, support: User
) -> None:
    with pytest.raises(ValidationError, match="last owner of acme"):
        membership_set(
            organization=world.acme, user=alice, role=MEMBER, actor=support, source="admin"
        )
    membership = Membership.objects.get(user=alice)
    with pytest.raises(ValidationError, match="last owner of acme"):
        membership_remove(membership=membership, actor=support, source="admin")
    assert owners(world) == ["alice"]


def test_the_platform_may_close_an_organization(world: World, alice: User) -> None:
    membership_remove(membership=Membership.objects.get(user=alice), actor=None, source="cli")
    assert owners(world) == []


def test_a_member_may_not_promote_themselves(world: World, alice: User, bob: User) -> None:
    with pytest.raises(PermissionDenied):
        membership_set(organization=world.acme, user=bob, role=OWNER, actor=bob, source="api")
    assert owners(world) == ["alice"]
    assert not AuditEvent.objects.filter(actor=bob).exists()


def test_an_owner_of_another_organization_may_not_change_this_one(
    world: World, alice: User, bob: User, carol: User
) -> None:
    with pytest.raises(PermissionDenied):
        membership_remove(membership=Membership.objects.get(user=bob), actor=carol, source="api")
    assert Membership.objects.filter(user=bob, organization=world.acme).exists()


def demote(start: threading.Barrier, organization: Organization, actor: User, target: User) -> str:
    try:
        start.wait(timeout=30)
        membership_set(
            organization=organization, user=target, role=MEMBER, actor=actor, source="api"
        )
        return "demoted"
    except ValidationError:
        return "refused"
    finally:
        connections.close_all()


def demote_each_other(
    world: World,
    alice: User,
    bob: User,
    rounds: int,
    racing: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> list[str]:
    """Two owners demote each other at once (inside `racing`), again and again; answer each
    round that left the organization without an owner."""
    problems = []
    for round_ in range(rounds):
        membership_set(organization=world.acme, user=alice, role=OWNER, actor=None, source="cli")
        membership_set(organization=world.acme, user=bob, role=OWNER, actor=None, source="cli")
        start = threading.Barrier(2)
        with racing(), ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(
                pool.map(demote, [start] * 2, [world.acme] * 2, [alice, bob], [bob, alice])
            )
        if not owners(world):
            problems.append(f"round {round_}: no owner left ({outcomes})")
        elif outcomes != ["demoted", "refused"]:
            problems.append(f"round {round_}: {outcomes}")
    return problems


def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    postgresql: None, world: World, alice: User, bob: User
) -> None:
    assert demote_each_other(world, alice, bob, rounds=10) == []


def test_without_the_lock_they_can_leave_none(
    postgresql: None, world: World, alice: User, bob: User
) -> None:
    """Held where both have checked that another owner remains and neither has written."""
    with without_row_locks():
        problems = demote_each_other(
            world, alice, bob, rounds=3, racing=lambda: checks_meet((accounts, "_keep_an_owner"))
        )
    assert len(problems) == 3 and all("no owner left" in p for p in problems), problems
