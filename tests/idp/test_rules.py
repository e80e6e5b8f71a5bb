"""Every rule of Twofold applies before an application gets a code (idp/rules.py, and the
sign-in's stages behind it): the second factor, forced enrollment under mandatory 2FA and its
grace period, the method policy, "Require SSO", deactivated members, remembered browsers only
where the account allows them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor, require_two_factor
from tests.idp.test_code_flow import (
    application,  # noqa: F401 (a fixture)
    authorize,
    pkce,
)
from tests.signin.test_remembered import allow_remembering, sign_in_remembering, sign_out
from twofold.idp.models import Application, Grant
from twofold.organizations import flows as organization_flows
from twofold.organizations.models import Membership
from twofold.sso.models import AccountSso

pytestmark = pytest.mark.django_db
SIGN_IN = "/accounts/login/"


def asks(client: Client, app: Application, **extra: str) -> str:
    """Where the authorization request sends the browser: a path of Twofold, or "code"."""
    answer = authorize(client, app, pkce()[1], **extra)
    assert answer.status_code == 302, answer.content[:300]
    location = urlsplit(answer["Location"])
    if answer["Location"].startswith("http://127.0.0.1:9000/callback"):
        return "code" if "code=" in location.query else f"error:{location.query}"
    return location.path


def password_only(client: Client, membership: Membership) -> Any:
    return client.post(SIGN_IN, {"login": membership.user.email, "password": PASSWORD})


def test_no_code_before_the_second_factor(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
    sms_outbox: Any,
) -> None:
    give_sms_factor(member)
    client = Client()
    assert password_only(client, member)["Location"] == "/accounts/2fa/"
    assert asks(client, application[0]) == SIGN_IN  # no session yet: sign in first
    assert not Grant.objects.exists()
    client.post(SIGN_IN, {"login": member.user.email, "password": PASSWORD})
    client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert asks(client, application[0]) == "code"


def test_no_code_before_the_forced_enrollment_of_mandatory_2fa(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
) -> None:
    require_two_factor(member.organization)
    client = Client()
    assert password_only(client, member)["Location"].startswith("/accounts/2fa/enroll")
    assert asks(client, application[0]) == SIGN_IN
    assert not Grant.objects.exists()


def test_a_session_from_before_2fa_became_mandatory_signs_in_again_first(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
) -> None:
    client = freshly_signed_in(Client(), member)
    require_two_factor(member.organization)  # after the sign-in, no grace period
    assert asks(client, application[0]) == SIGN_IN
    assert not Grant.objects.exists()
    assert "_auth_user_id" not in client.session  # that session ended
    # Signing in again now leads through the forced enrollment, as the rule says.
    assert password_only(client, member)["Location"].startswith("/accounts/2fa/enroll")


def test_during_the_grace_period_a_session_without_2fa_gets_a_code(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
) -> None:
    client = freshly_signed_in(Client(), member)
    require_two_factor(member.organization, grace_days=7)
    assert asks(client, application[0]) == "code"


def test_prompt_none_for_a_session_that_must_sign_in_again_is_login_required(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
) -> None:
    client = freshly_signed_in(Client(), member)
    require_two_factor(member.organization)
    refused = asks(client, application[0], prompt="none")
    assert refused.startswith("error:error=login_required&")


def test_a_session_whose_factors_the_account_no_longer_allows_signs_in_again(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
) -> None:
    give_sms_factor(member)
    client = freshly_signed_in(Client(), member, second_factor="sms")
    require_two_factor(member.organization)
    member.organization.allowed_two_factor_methods = ["totp"]
    member.organization.save()
    assert asks(client, application[0]) == SIGN_IN


def test_a_password_session_of_an_account_that_now_requires_sso_signs_in_again(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
) -> None:
    client = freshly_signed_in(Client(), member)
    AccountSso.objects.create(organization=member.organization, require_sso=True)
    assert asks(client, application[0]) == SIGN_IN
    assert not Grant.objects.exists()


def test_a_deactivated_members_browser_gets_no_code(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    member: Membership,
) -> None:
    client = freshly_signed_in(Client(), member)
    organization_flows.deactivate_member(administrator, member.pk)
    assert asks(client, application[0]) == SIGN_IN
    assert not Grant.objects.exists()


def test_a_remembered_browser_is_aal1_and_asked_for_aal2(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
    sms_outbox: Any,
) -> None:
    give_sms_factor(member)
    client = Client()
    sign_in_remembering(client, member, sms_outbox)
    sign_out(client)
    assert password_only(client, member)["Location"] == "/"  # remembered: the password alone
    assert asks(client, application[0]) == "code"  # at aal1
    stepped = asks(client, application[0], acr_values="urn:twofold:aal2")
    assert stepped == "/accounts/2fa/reauthenticate/"


def test_a_remembered_browser_the_account_no_longer_honours_gives_its_second_factor(
    application: tuple[Application, str],  # noqa: F811
    member: Membership,
    sms_outbox: Any,
) -> None:
    give_sms_factor(member)
    client = Client()
    sign_in_remembering(client, member, sms_outbox)
    sign_out(client)
    password_only(client, member)
    allow_remembering(member.organization, False)
    assert asks(client, application[0]) == "/accounts/2fa/reauthenticate/"
    assert not Grant.objects.exists()
