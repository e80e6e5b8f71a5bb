"""Sign in with Google and Microsoft against a real OpenID Connect provider (tests/peers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from tests.conftest import PASSWORD, SmsOutbox
from tests.peers.harness import OidcProvider
from tests.sso.conftest import TENANT, allow_tenant, link, sign_in, start
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.organizations.models import Membership
from twofold.sessions import assurance

pytestmark = [pytest.mark.usefixtures("sso"), pytest.mark.django_db]


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


def session_amr(client: Client, membership: Membership) -> list[str]:
    return assurance.amr(assurance.records(client.session, membership.user))


# --- Signing in --------------------------------------------------------------------------------


def test_linked_member_signs_in_with_google_and_our_sms_step_is_skipped(
    google: OidcProvider, member_with_sms: Membership, sms_outbox: SmsOutbox
) -> None:
    link(member_with_sms, "google", "google-sub-bob")
    client = Client()

    answer = sign_in(client, google, "google", email="bob@acme.test", sub="google-sub-bob")

    assert answer.status_code == 302
    assert answer["Location"] == "/"
    assert signed_in_user_id(client) == str(member_with_sms.user.pk)
    assert sms_outbox.messages() == []
    assert session_amr(client, member_with_sms) == ["fed"]


def test_session_records_mfa_when_the_identity_provider_asserts_it(
    google: OidcProvider, member: Membership
) -> None:
    link(member, "google", "google-sub-bob")
    client = Client()

    sign_in(
        client, google, "google", email="bob@acme.test", sub="google-sub-bob", amr=("pwd", "mfa")
    )

    assert session_amr(client, member) == ["fed", "mfa"]


def test_sso_sign_in_skips_forced_enrollment(
    google: OidcProvider, member: Membership, account_requiring_2fa: Any
) -> None:
    link(member, "google", "google-sub-bob")
    client = Client()

    answer = sign_in(client, google, "google", email="bob@acme.test", sub="google-sub-bob")

    assert answer["Location"] == "/"
    assert signed_in_user_id(client) == str(member.user.pk)


def test_linked_member_signs_in_with_microsoft(microsoft: OidcProvider, member: Membership) -> None:
    link(member, "microsoft", "entra-oid-bob")
    allow_tenant(member)
    client = Client()

    answer = sign_in(client, microsoft, "microsoft", email="bob@acme.test", sub="entra-oid-bob")

    assert answer["Location"] == "/"
    assert signed_in_user_id(client) == str(member.user.pk)


def test_microsoft_multi_tenant_issuer_is_filled_in_with_the_tokens_tenant(
    settings: Any, microsoft: OidcProvider, member: Membership
) -> None:
    """Entra's /organizations discovery names ``…/{tenantid}/v2.0`` as its issuer."""
    [app] = [a for a in settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
             if a["provider_id"] == "microsoft"]  # fmt: skip
    templated = microsoft.issuer.replace(TENANT, "{tenantid}")
    app["settings"]["openid_configuration_overrides"] = {"issuer": templated}
    link(member, "microsoft", "entra-oid-bob")
    allow_tenant(member)
    client = Client()

    answer = sign_in(client, microsoft, "microsoft", email="bob@acme.test", sub="entra-oid-bob")

    assert answer["Location"] == "/"
    assert signed_in_user_id(client) == str(member.user.pk)


def test_a_callback_allauth_refuses_is_audited(google: OidcProvider, member: Membership) -> None:
    client = Client()
    start(client, "google")

    answer = client.get("/accounts/oidc/google/login/callback/?code=x&state=not-ours")

    assert answer.status_code == 401  # allauth's "Third-Party Login Failure" page
    assert signed_in_user_id(client) is None
    event = AuditEvent.objects.get(event=Event.SSO_SIGN_IN_REFUSED)
    assert event.detail == {"provider": "google", "reason": "unknown"}


def test_asvs_6_8_1_a_subject_linked_at_google_does_not_sign_in_through_microsoft(
    microsoft: OidcProvider, member: Membership
) -> None:
    link(member, "google", "same-sub")
    client = Client()

    answer = sign_in(client, microsoft, "microsoft", email="bob@acme.test", sub="same-sub")

    assert answer.status_code == 403
    assert signed_in_user_id(client) is None


def test_each_sign_in_sends_its_own_nonce(member: Membership) -> None:
    first, second = (
        parse_qs(urlsplit(start(Client(), "google")).query).get("nonce") for _ in range(2)
    )

    assert first
    assert second
    assert first != second


# --- Refused sign-ins --------------------------------------------------------------------------


def test_unlinked_subject_is_refused_with_a_page_and_audited(
    google: OidcProvider, member: Membership
) -> None:
    client = Client()

    answer = sign_in(client, google, "google", email="carol@elsewhere.test", sub="unknown-sub")

    assert answer.status_code == 403
    assert "This Google account is not linked to a Twofold member." in answer.content.decode()
    assert signed_in_user_id(client) is None
    event = AuditEvent.objects.get(event=Event.SSO_SIGN_IN_REFUSED)
    assert event.detail == {"provider": "google", "reason": "not_linked"}


def test_same_email_at_the_identity_provider_does_not_sign_in_our_member(
    google: OidcProvider, member: Membership
) -> None:
    """nOAuth: an identity-provider account claiming our member's email is not our member."""
    client = Client()

    answer = sign_in(client, google, "google", email=member.user.email, sub="attacker-sub")

    assert answer.status_code == 403
    assert signed_in_user_id(client) is None
    assert not SocialAccount.objects.exists()


def test_refusal_in_the_api_redirects_to_the_app_with_an_error(
    google: OidcProvider, member: Membership
) -> None:
    client = Client()
    redirect = client.post(
        "/_allauth/browser/v1/auth/provider/redirect",
        {"provider": "google", "process": "login", "callback_url": "/app/callback"},
    )
    assert redirect.status_code == 302
    callback = google.sign_in(redirect["Location"], email="bob@acme.test", sub="unknown-sub")

    answer = client.get(callback)

    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert answer["Location"].startswith("/app/callback")
    assert query["error"] == ["denied"]
    assert signed_in_user_id(client) is None


def test_an_id_token_for_another_nonce_is_refused(google: OidcProvider, member: Membership) -> None:
    link(member, "google", "google-sub-bob")
    client = Client()
    authorization = start(client, "google")
    session = client.session
    for stashed in session["socialaccount_states"].values():
        stashed[0]["twofold_nonce"] = "the nonce of another login"
    session.save()
    callback = google.sign_in(authorization, email="bob@acme.test", sub="google-sub-bob")

    answer = client.get(callback)

    assert answer.status_code == 403
    assert signed_in_user_id(client) is None
    event = AuditEvent.objects.get(event=Event.SSO_SIGN_IN_REFUSED)
    assert event.detail == {"provider": "google", "reason": "nonce"}


def test_api_configuration_lists_the_identity_providers() -> None:
    answer = Client().get("/_allauth/browser/v1/config")

    providers = answer.json()["data"]["socialaccount"]["providers"]
    assert {(p["id"], p["name"]) for p in providers} == {
        ("google", "Google"),
        ("microsoft", "Microsoft"),
    }


# --- Linking and unlinking ---------------------------------------------------------------------


def test_linking_requires_recent_authentication(
    google: OidcProvider, member: Membership, member_client: Client
) -> None:
    answer = sign_in(
        member_client,
        google,
        "google",
        email="bob@acme.test",
        sub="google-sub-bob",
        process="connect",
    )

    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/reauthenticate/")
    assert not SocialAccount.objects.exists()


def reauthenticate(client: Client, answer: Any) -> Any:
    """Enter the password on the re-authentication page allauth redirected to; its answer."""
    assert answer["Location"].startswith("/accounts/reauthenticate/")
    return client.post(answer["Location"], {"password": PASSWORD})


def test_member_links_google_after_reauthenticating(
    google: OidcProvider, member: Membership, member_client: Client, outbox: list[Any]
) -> None:
    answer = sign_in(
        member_client,
        google,
        "google",
        email="b@gmail.test",
        sub="google-sub-bob",
        process="connect",
    )

    reauthenticate(member_client, answer)

    account = SocialAccount.objects.get(user=member.user)
    assert (account.provider, account.uid) == ("google", "google-sub-bob")
    assert AuditEvent.objects.filter(event=Event.SSO_LINKED, subject=member.user).exists()
    assert [m.to for m in outbox] == [[member.user.email]]


def test_a_subject_linked_to_another_member_is_not_linked_again(
    google: OidcProvider, member: Membership, member_client: Client, administrator: Membership
) -> None:
    link(administrator, "google", "google-sub-ada")
    answer = sign_in(
        member_client,
        google,
        "google",
        email="a@gmail.test",
        sub="google-sub-ada",
        process="connect",
    )

    reauthenticate(member_client, answer)

    assert SocialAccount.objects.get(uid="google-sub-ada").user == administrator.user
    assert not SocialAccount.objects.filter(user=member.user).exists()


def test_unlinking_requires_recent_authentication(
    member: Membership, member_client: Client, outbox: list[Any]
) -> None:
    account = link(member, "google", "google-sub-bob")

    answer = member_client.post("/accounts/3rdparty/", {"account": account.pk})

    assert SocialAccount.objects.filter(pk=account.pk).exists()
    reauthenticate(member_client, answer)
    assert not SocialAccount.objects.filter(pk=account.pk).exists()
    assert AuditEvent.objects.filter(event=Event.SSO_UNLINKED, subject=member.user).exists()
    assert [m.to for m in outbox] == [[member.user.email]]


# --- Pages -------------------------------------------------------------------------------------


def test_sign_in_page_offers_the_configured_identity_providers_as_post_forms() -> None:
    page = Client().get("/accounts/login/").content.decode()

    assert "Sign in with Google" in page
    assert "Sign in with Microsoft" in page
    assert 'action="/accounts/oidc/google/login/?process=login"' in page


def test_security_settings_offer_linking_and_unlinking(
    member: Membership, member_client: Client
) -> None:
    link(member, "microsoft", "entra-oid-bob")
    allow_tenant(member)

    page = member_client.get("/settings/security/").content.decode()

    assert "Link Google" in page
    assert "Unlink Microsoft" in page
