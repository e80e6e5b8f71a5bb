"""The audit log is append-only, per account, carries where a request came from, and no secrets."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from twofold.audit import context
from twofold.audit.events import Event
from twofold.audit.models import AppendOnlyError, AuditEvent
from twofold.audit.record import record
from twofold.organizations.models import Membership


def test_an_event_names_actor_subject_account_and_origin(
    administrator: Membership, member: Membership
) -> None:
    request = RequestFactory().get("/", HTTP_USER_AGENT="Firefox", REMOTE_ADDR="192.0.2.7")
    with context.from_request(request):
        entry = record(
            Event.ROLE_CHANGED,
            subject=member.user,
            actor=administrator.user,
            detail={"role": "administrator"},
        )
    entry.refresh_from_db()
    assert entry.organization == member.organization
    assert (entry.actor_email, entry.subject_email) == (
        administrator.user.email,
        member.user.email,
    )
    assert (entry.ip, entry.user_agent) == ("192.0.2.7", "Firefox")
    assert entry.detail == {"role": "administrator"}


def test_the_actor_defaults_to_the_subject_and_origin_is_empty_outside_requests(
    member: Membership,
) -> None:
    entry = record(Event.PASSWORD_CHANGED, subject=member.user)
    assert entry.actor == member.user
    assert entry.ip is None
    assert entry.user_agent == ""


def test_audit_events_are_append_only(member: Membership) -> None:
    entry = record(Event.PASSWORD_CHANGED, subject=member.user)
    entry.detail = {"changed": True}
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=entry.pk).update(event=Event.SIGNED_OUT)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_audit_details_refuse_secrets_and_full_numbers(member: Membership) -> None:
    for key in ("code", "password", "phone"):
        with pytest.raises(ValueError):
            record(Event.PHONE_CHANGED, subject=member.user, detail={key: "x"})
    assert not AuditEvent.objects.exists()


def test_events_survive_the_deletion_of_their_user(member: Membership) -> None:
    record(Event.PASSWORD_CHANGED, subject=member.user)
    member.user.delete()
    entry = AuditEvent.objects.get()
    assert entry.subject is None
    assert entry.subject_email == member.user.email


def test_details_read_as_sentences_for_people(member: Membership) -> None:
    entry = record(
        Event.POLICY_CHANGED,
        subject=member.user,
        detail={"require_two_factor": {"from": False, "to": True}, "grace_days": 3},
    )
    assert entry.detail_lines == ["require two factor: from no to yes", "grace days: 3"]


def test_a_proxy_count_above_the_proxies_passed_keeps_the_event_without_an_address(
    settings, member
):
    """allauth refuses to name the client when fewer proxies forwarded the request than
    ``TWOFOLD_TRUSTED_PROXY_COUNT`` says: the event is kept without an address, never a 500."""
    from django.test import Client

    from tests.conftest import signed_in

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    client = signed_in(Client(), member)
    answer = client.post("/accounts/logout/", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert answer.status_code == 302
    event = AuditEvent.objects.filter(event=Event.SIGNED_OUT).latest("pk")
    assert event.ip is None
