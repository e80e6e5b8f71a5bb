"""Races between requests, with real transactions on the configured database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from twofold.errors import FlowError
from twofold.organizations import flows
from twofold.organizations.models import Membership, Role


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_administrators_demoting_each_other_at_once_leave_one_administrator(make_member):
    first = make_member("first@race.test")
    second = make_member("second@race.test", organization=first.organization)
    flows.change_role(first, second.pk, Role.ADMINISTRATOR)

    def demote(actor_pk: int, target_pk: int) -> Callable[[], Any]:
        def call() -> Any:
            actor = Membership.objects.select_related("user", "organization").get(pk=actor_pk)
            return flows.change_role(actor, target_pk, Role.MEMBER)

        return call

    results = run_together(demote(first.pk, second.pk), demote(second.pk, first.pk))

    refused = [r for r in results if isinstance(r, FlowError)]
    assert len(refused) == 1, results
    remaining = Membership.objects.of(first.organization).administrators()
    assert remaining.count() == 1


@pytest.mark.django_db(transaction=True)
def test_invitation_accepted_twice_at_once_creates_one_user(administrator):
    issued = flows.invite_member(administrator, "twice@acme.test")

    results = run_together(
        *[lambda: flows.accept_invitation(issued.token, "a long passphrase for racing")] * 4
    )

    accepted = [r for r in results if not isinstance(r, Exception)]
    assert len(accepted) == 1, results
    assert all(isinstance(r, FlowError) for r in results if r not in accepted)
    assert Membership.objects.filter(user__email="twice@acme.test").count() == 1
