"""Security keys and passkeys: registering, naming, removing, and using them (flows)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail

from tests.conftest import give_sms_factor
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import FlowError
from twofold.factors import member_factors, methods
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.lockout import SecondFactorFailures
from twofold.factors.webauthn import flows

RP = flows.RelyingParty(id="testserver")


def register(user: Any, session: SessionStore, *, name: str = "Blue key", passkey: bool = True):
    token = SoftAuthenticator()
    options = flows.begin_registration(user, session, RP, passkey=passkey)
    return token, flows.complete_registration(user, session, RP, name, token.create(options))


def give_key(user: Any, *, name: str = "Blue key") -> SoftAuthenticator:
    """A key registered as the member's first factor, with backup codes, active."""
    session = SessionStore()
    token, created = register(user, session, name=name)
    if created is None:
        flows.show_backup_codes(user, session)
        flows.activate(user, session, saved_backup_codes=True)
    return token


def test_a_first_key_needs_backup_codes_then_activation(member):
    user, session = member.user, SessionStore()
    _, created = register(user, session)
    assert created is None
    assert not member_factors.has_second_factor(user)
    assert len(flows.show_backup_codes(user, session)) == 10
    key = flows.activate(user, session, saved_backup_codes=True)
    assert key.type == Authenticator.Type.WEBAUTHN
    assert key.data["name"] == "Blue key"
    assert member_factors.methods(user) == [methods.WEBAUTHN]
    assert BackupCode.objects.filter(user=user, active=True).count() == 10
    assert AuditEvent.objects.filter(event=Event.TWO_FACTOR_ENABLED, factor="webauthn")


def test_keys_beside_another_factor_are_added_at_once_with_email_and_audit(member):
    give_sms_factor(member)
    user, session = member.user, SessionStore()
    mail.outbox.clear()
    _, first = register(user, session, name="Blue key")
    _, second = register(user, session, name="  Laptop   passkey ")
    assert first is not None
    assert second is not None
    assert [k.name for k in flows.keys(user)] == ["Blue key", "Laptop passkey"]
    assert member_factors.methods(user) == [methods.WEBAUTHN, methods.SMS]
    assert len(mail.outbox) == 2
    assert "Security key" in mail.outbox[0].body
    added = AuditEvent.objects.filter(event=Event.FACTOR_ADDED, factor="webauthn")
    assert added.count() == 2


def test_the_same_key_is_excluded_from_a_second_registration(member):
    token = give_key(member.user)
    options = flows.begin_registration(member.user, SessionStore(), RP, passkey=False)
    excluded = [c["id"] for c in options["publicKey"]["excludeCredentials"]]
    assert excluded == [token.create(options)["id"]]


def test_a_registration_answer_for_another_challenge_is_refused(member):
    session = SessionStore()
    options = flows.begin_registration(member.user, session, RP, passkey=True)
    options["publicKey"]["challenge"] = "AAAA" + options["publicKey"]["challenge"][4:]
    with pytest.raises(FlowError) as error:
        flows.complete_registration(
            member.user, session, RP, "k", SoftAuthenticator().create(options)
        )
    assert error.value.code == "webauthn_invalid"


def test_a_registration_from_another_origin_is_refused(member):
    session = SessionStore()
    options = flows.begin_registration(member.user, session, RP, passkey=True)
    answer = SoftAuthenticator(origin="https://evil.example").create(options)
    with pytest.raises(FlowError):
        flows.complete_registration(member.user, session, RP, "k", answer)


def test_a_passkey_registration_without_user_verification_is_refused(member):
    session = SessionStore()
    options = flows.begin_registration(member.user, session, RP, passkey=True)
    with pytest.raises(FlowError):
        flows.complete_registration(
            member.user, session, RP, "k", SoftAuthenticator(user_verified=False).create(options)
        )


def test_garbage_as_a_credential_is_a_flow_error(member):
    session = SessionStore()
    flows.begin_registration(member.user, session, RP, passkey=True)
    with pytest.raises(FlowError) as error:
        flows.complete_registration(member.user, session, RP, "k", {"id": 3, "response": "x"})
    assert error.value.code == "webauthn_invalid"


def test_rename_and_remove_one_key_of_several(member):
    user = member.user
    give_key(user, name="One")
    register(user, SessionStore(), name="Two")
    first, second = flows.keys(user)
    assert flows.rename(user, first.id, "Office key").name == "Office key"
    flows.remove(user, second.id)
    assert [k.name for k in flows.keys(user)] == ["Office key"]
    assert AuditEvent.objects.filter(event=Event.FACTOR_REMOVED, factor="webauthn")
    assert BackupCode.objects.filter(user=user, active=True).count() == 10  # one set, kept


def test_removing_the_last_key_turns_two_factor_off(member):
    give_key(member.user)
    flows.remove(member.user, flows.keys(member.user)[0].id)
    assert not member_factors.has_second_factor(member.user)
    assert not BackupCode.objects.filter(user=member.user).exists()


def test_another_members_key_cannot_be_renamed_or_removed(member, administrator):
    give_key(member.user)
    key = flows.keys(member.user)[0]
    with pytest.raises(FlowError):
        flows.rename(administrator.user, key.id, "mine")
    with pytest.raises(FlowError):
        flows.remove(administrator.user, key.id)
    assert flows.keys(member.user)[0].name == key.name


def test_a_signature_of_a_registered_key_verifies_the_second_factor(member):
    token = give_key(member.user)
    session = SessionStore()
    options = flows.begin_assertion(session, RP, member.user)
    found = flows.verify(member.user, session, RP, token.get(options))
    assert found.last_used_at is not None
    assert found.data["sign_count"] == 1


def test_asvs_6_5_1_a_challenge_is_answered_once(member):
    token = give_key(member.user)
    session = SessionStore()
    options = flows.begin_assertion(session, RP, member.user)
    answer = token.get(options)
    flows.verify(member.user, session, RP, answer)
    with pytest.raises(FlowError) as error:
        flows.verify(member.user, session, RP, answer)
    assert error.value.code == "webauthn_missing"


def test_webauthn_6_1_1_a_counter_that_does_not_grow_is_refused_as_a_clone(member):
    token = give_key(member.user)
    session = SessionStore()
    flows.verify(
        member.user, session, RP, token.get(flows.begin_assertion(session, RP, member.user))
    )
    options = flows.begin_assertion(session, RP, member.user)
    with pytest.raises(FlowError):
        flows.verify(member.user, session, RP, token.get(options, counter_step=0))


def test_an_unregistered_key_fails_and_counts_in_the_shared_lockout(member):
    give_key(member.user)
    session = SessionStore()
    options = flows.begin_assertion(session, RP, member.user)
    with pytest.raises(FlowError):
        flows.verify(member.user, session, RP, SoftAuthenticator(rp_id="testserver").get(options))
    assert SecondFactorFailures.objects.get(user=member.user).consecutive == 1
    assert AuditEvent.objects.filter(event=Event.SECOND_FACTOR_FAILED, factor="webauthn")


def test_a_passkey_signs_in_the_member_its_user_handle_names(member):
    token = give_key(member.user)
    session = SessionStore()
    options = flows.begin_assertion(session, RP)
    assert options["publicKey"]["userVerification"] == "required"
    assert flows.passkey_sign_in(session, RP, token.get(options)).user == member.user


def test_a_passkey_sign_in_without_user_verification_is_refused(member):
    token = give_key(member.user)
    token.user_verified = False
    session = SessionStore()
    with pytest.raises(FlowError):
        flows.passkey_sign_in(session, RP, token.get(flows.begin_assertion(session, RP)))


def test_a_passkey_naming_another_member_is_refused(member, administrator):
    token = give_key(member.user)
    give_key(administrator.user)
    token.user_handle = str(administrator.user.pk).encode()
    session = SessionStore()
    with pytest.raises(FlowError):
        flows.passkey_sign_in(session, RP, token.get(flows.begin_assertion(session, RP)))
