"""Assurance as data: AMR values from allauth's records, and the AAL they reach."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore

from twofold.sessions import assurance


@pytest.mark.parametrize(
    ("recorded", "amr", "aal"),
    [
        ([{"method": "password"}], ["pwd"], "aal1"),
        ([{"method": "password"}, {"method": "mfa", "type": "totp"}], ["pwd", "otp"], "aal2"),
        ([{"method": "password"}, {"method": "mfa", "type": "sms"}], ["pwd", "sms"], "aal2"),
        ([{"method": "password"}, {"method": "mfa", "type": "webauthn"}], ["pwd", "hwk"], "aal2"),
        # An emailed code is no second factor (NIST SP 800-63B-4).
        ([{"method": "password"}, {"method": "code"}], ["pwd", "email"], "aal1"),
        ([{"method": "socialaccount"}], ["fed"], "aal1"),
        # An SSO sign-in, then Twofold's own second factor (the "always ours" policy, or a
        # step-up an application asked for): two factors.
        ([{"method": "socialaccount"}, {"method": "mfa", "type": "sms"}], ["fed", "sms"], "aal2"),
        ([{"method": "socialaccount"}, {"method": "mfa", "type": "totp"}], ["fed", "otp"], "aal2"),
        # A remembered browser is no second factor.
        (
            [{"method": "socialaccount"}, {"method": "remembered_device"}],
            ["fed", "remembered"],
            "aal1",
        ),
        ([], [], "aal1"),
    ],
)
def test_amr_and_aal_from_recorded_methods(recorded, amr, aal):
    assert assurance.amr(recorded) == amr
    assert assurance.level(assurance.amr(recorded)) == aal


def test_federated_login_reaches_aal2_only_when_its_policy_is_satisfied():
    assert assurance.level(["fed"], federated_mfa=True) == "aal2"
    assert assurance.level(["fed"], federated_mfa=False) == "aal1"


def test_records_of_another_user_are_ignored(member, administrator):
    session = SessionStore()
    session["account_authentication_methods"] = [{"method": "password"}]
    session["account_authentication_methods_user"] = str(administrator.user.pk)
    assert assurance.records(session, member.user) == []
    assert assurance.records(session, administrator.user) == [{"method": "password"}]


def test_password_sign_in_is_recorded_as_pwd_aal1(client, member):
    from tests.conftest import PASSWORD

    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    data = client.get("/api/v1/me").json()["data"]
    assert (data["amr"], data["aal"]) == (["pwd"], "aal1")


@pytest.mark.parametrize(
    ("recorded", "amr", "aal"),
    [
        ([{"method": "mfa", "type": "webauthn", "passwordless": True}], ["hwk", "user"], "aal2"),
        ([{"method": "mfa", "type": "webauthn"}], ["hwk"], "aal1"),  # a key alone: one factor
        ([{"method": "password"}, {"method": "mfa", "type": "webauthn"}], ["pwd", "hwk"], "aal2"),
    ],
)
def test_rfc_8176_amr_and_aal_of_security_keys_and_passkeys(recorded, amr, aal):
    assert assurance.amr(recorded) == amr
    assert assurance.session_level(recorded) == aal
