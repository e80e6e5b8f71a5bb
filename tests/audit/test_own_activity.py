"""Members see their own recent security events on "Password and Two-Factor Authentication"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.test import Client

from tests.audit.conftest import DAY, Log, ids
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.flows import RECENT_OWN_EVENTS, own_recent_events
from twofold.audit.record import record
from twofold.organizations.models import Membership

SETTINGS = "/settings/security/"


def test_member_sees_their_own_recent_security_events(member_client: Client, log: Log) -> None:
    response = member_client.get(SETTINGS)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Recent security activity" in page
    assert "Two-factor authentication enabled" in page
    assert "by ada@acme.test" in page  # the administrator who changed their role
    assert set(ids(log.acme[:2])) <= set(ids(response.context["security_events"]))


def test_member_does_not_see_other_members_events(
    member: Membership, make_member: Callable[..., Membership], log: Log
) -> None:
    carol = make_member("carol@acme.test", organization=member.organization)
    theirs = record(Event.PHONE_CHANGED, subject=carol.user, now=DAY)
    client = Client()
    client.force_login(member.user)

    shown = client.get(SETTINGS).context["security_events"]

    assert theirs.pk not in ids(shown)
    assert log.signed_in.pk not in ids(shown)  # the administrator's own sign-in
    assert {e.organization_id for e in shown} == {member.organization_id}
    assert all(member.user.pk in (e.subject_id, e.actor_id) for e in shown)


def test_an_administrator_sees_what_they_did_to_members_too(
    administrator: Membership, log: Log
) -> None:
    shown = own_recent_events(administrator.user)

    assert log.promoted.pk in ids(shown)  # done by them to bob
    assert log.globex.pk not in ids(shown)


def test_only_the_20_most_recent_events_are_shown(member: Membership) -> None:
    written = [
        # After anything the fixtures' flows wrote: these are the newest.
        record(Event.SIGNED_OUT, subject=member.user, now=clock.now() + timedelta(minutes=m))
        for m in range(RECENT_OWN_EVENTS + 5)
    ]

    shown = own_recent_events(member.user)

    assert ids(shown)[:RECENT_OWN_EVENTS] == ids(reversed(written))[:RECENT_OWN_EVENTS]
    assert len(shown) == RECENT_OWN_EVENTS
