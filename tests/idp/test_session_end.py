"""Tokens end with the Twofold session (idp/session_end.py) and applications are told with a
signed logout token (OpenID Connect Back-Channel Logout 1.0, idp/backchannel.py); pairwise
subjects (OpenID Connect Core 8.1)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.test import Client
from joserfc import jws, jwt
from joserfc.jwk import KeySet

from tests.conftest import PASSWORD, freshly_signed_in
from tests.idp.test_code_flow import (
    ISSUER,
    application,  # noqa: F401 (a fixture)
    authorize,
    callback_parameters,
    id_token_claims,
    pkce,
    redeem,
)
from twofold import clock
from twofold.audit.models import AuditEvent
from twofold.idp import backchannel
from twofold.idp.models import Application, ApplicationSession, LogoutDelivery
from twofold.organizations import flows as organization_flows
from twofold.organizations.models import Membership
from twofold.sessions.member_sessions import end_all_sessions

pytestmark = pytest.mark.django_db
EVENT = "http://schemas.openid.net/event/backchannel-logout"


class Receiver:
    """An application's back-channel logout endpoint on 127.0.0.1: keeps each logout token and
    answers with the next status of ``statuses`` (200 once they are used up)."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                receiver.tokens.extend(form.get("logout_token", []))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_port}/backchannel-logout"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def app(application: tuple[Application, str], receiver: Receiver) -> tuple[Application, str]:  # noqa: F811
    found, secret = application
    found.backchannel_logout_uri = receiver.uri
    found.save()
    return found, secret


def signed_in_to(
    app: tuple[Application, str], membership: Membership, browser: Client | None = None
) -> tuple[Client, dict[str, Any]]:
    """A browser signed in to Twofold, and what the application got for it at the token
    endpoint."""
    browser = browser or freshly_signed_in(Client(), membership)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(browser, app[0], challenge))["code"]
    tokens = redeem(app[0], app[1], code, verifier)
    assert tokens.status_code == 200, tokens.content
    return browser, tokens.json()


def refresh(app: tuple[Application, str], refresh_token: str) -> Any:
    return Client().post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app[0].client_id,
            "client_secret": app[1],
        },
    )


def userinfo(access_token: str) -> int:
    answer = Client().get("/oauth/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return int(answer.status_code)


def assert_tokens_ended(app: tuple[Application, str], tokens: dict[str, Any]) -> None:
    assert userinfo(tokens["access_token"]) == 401
    refused = refresh(app, tokens["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def verified_logout_token(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set(Client().get("/oauth/.well-known/jwks.json").json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    return dict(decoded.header), dict(decoded.claims)


# --- Tokens end with the session ------------------------------------------------------------------


def test_tokens_work_while_the_session_lasts(
    app: tuple[Application, str], administrator: Membership
) -> None:
    _, tokens = signed_in_to(app, administrator)
    assert userinfo(tokens["access_token"]) == 200
    assert refresh(app, tokens["refresh_token"]).status_code == 200


def test_signing_out_of_twofold_ends_the_applications_tokens(
    app: tuple[Application, str],
    administrator: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser, tokens = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    assert_tokens_ended(app, tokens)


def test_a_refreshed_familys_tokens_end_too(
    app: tuple[Application, str],
    administrator: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser, first = signed_in_to(app, administrator)
    later = refresh(app, first["refresh_token"]).json()
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    assert_tokens_ended(app, later)


@pytest.mark.parametrize("how", ["deactivated", "all_sessions_ended", "two_factor_reset"])
def test_tokens_end_when_the_session_is_ended_from_outside(
    app: tuple[Application, str],
    administrator: Membership,
    member: Membership,
    how: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.conftest import give_sms_factor
    from twofold.factors import reset

    if how == "two_factor_reset":
        give_sms_factor(member)
    _, tokens = signed_in_to(app, member)
    with django_capture_on_commit_callbacks(execute=True):
        if how == "deactivated":
            organization_flows.deactivate_member(administrator, member.pk)
        elif how == "all_sessions_ended":
            end_all_sessions(member.user)
        else:
            reset.reset_two_factor(administrator, member.pk)
    assert_tokens_ended(app, tokens)


def test_a_password_change_ends_the_tokens_of_the_other_sessions_only(
    app: tuple[Application, str],
    administrator: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    here, kept = signed_in_to(app, administrator)
    _, other = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        changed = here.post(
            "/accounts/password/change/",
            {
                "oldpassword": PASSWORD,
                "password1": "a new long passphrase 7",
                "password2": "a new long passphrase 7",
            },
        )
    assert changed.status_code == 302, changed.content[:400]
    assert_tokens_ended(app, other)
    assert userinfo(kept["access_token"]) == 200


def test_a_code_issued_before_the_session_ended_is_refused(
    app: tuple[Application, str],
    administrator: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser = freshly_signed_in(Client(), administrator)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(browser, app[0], challenge))["code"]
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    refused = redeem(app[0], app[1], code, verifier)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_a_family_refreshes_nothing_past_the_sessions_absolute_end(
    app: tuple[Application, str], administrator: Membership
) -> None:
    _, tokens = signed_in_to(app, administrator)
    ApplicationSession.objects.update(session_expires_at=clock.now() - timedelta(seconds=1))
    refused = refresh(app, tokens["refresh_token"])
    assert refused.status_code == 400


def test_oidc_core_12_2_a_refreshed_id_token_keeps_the_sign_ins_proof(
    app: tuple[Application, str], administrator: Membership
) -> None:
    _, tokens = signed_in_to(app, administrator)
    first = id_token_claims(tokens["id_token"])
    again = refresh(app, tokens["refresh_token"]).json()
    later = id_token_claims(again["id_token"])
    for claim in ("sub", "acr", "amr", "auth_time", "sid"):
        assert later[claim] == first[claim], claim


# --- Back-channel logout --------------------------------------------------------------------------


def test_oidc_backchannel_logout_2_4_signing_out_sends_a_signed_logout_token(
    app: tuple[Application, str],
    administrator: Membership,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser, tokens = signed_in_to(app, administrator)
    id_claims = id_token_claims(tokens["id_token"])
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    assert len(receiver.tokens) == 1
    header, claims = verified_logout_token(receiver.tokens[0])
    assert header["typ"] == "logout+jwt"
    assert header["alg"] == "RS256"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == app[0].client_id
    assert claims["sub"] == id_claims["sub"]
    assert claims["sid"] == id_claims["sid"]
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims  # section 2.4: a nonce is prohibited
    assert claims["jti"]
    assert claims["iat"] <= claims["exp"]
    assert LogoutDelivery.objects.get().delivered_at is not None


def test_oidc_backchannel_logout_2_4_the_token_is_signed_by_the_provider_only(
    app: tuple[Application, str],
    administrator: Membership,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser, _ = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    header, payload, signature = receiver.tokens[0].split(".")
    forged = ".".join([header, payload, signature[::-1]])
    keys = KeySet.import_key_set(Client().get("/oauth/.well-known/jwks.json").json())
    with pytest.raises(Exception):  # noqa: B017 (joserfc's BadSignatureError)
        jws.deserialize_compact(forged, keys)


def test_a_session_is_told_once_however_many_ways_it_ends(
    app: tuple[Application, str],
    administrator: Membership,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser, _ = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        end_all_sessions(administrator.user)
        browser.post("/accounts/logout/")
    assert len(receiver.tokens) == 1


def test_an_application_without_a_logout_uri_gets_no_delivery(
    app: tuple[Application, str],
    administrator: Membership,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    Application.objects.update(backchannel_logout_uri="")
    browser, tokens = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    assert receiver.tokens == []
    assert not LogoutDelivery.objects.exists()
    assert_tokens_ended(app, tokens)


def test_a_failed_delivery_is_audited_and_retried_until_it_is_delivered(
    app: tuple[Application, str],
    administrator: Membership,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.statuses = [503, 500]
    browser, _ = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    delivery = LogoutDelivery.objects.get()
    assert delivery.delivered_at is None
    assert delivery.attempts == 1
    assert delivery.last_error == "HTTP 503"
    assert backchannel.deliver_due() == (0, 0)  # not due yet
    later = delivery.next_attempt_at
    assert backchannel.deliver_due(later) == (0, 1)
    assert backchannel.deliver_due(later + timedelta(hours=1)) == (1, 0)
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None
    assert len(receiver.tokens) == 3
    # Each try signs a new token: a retry an hour later is not already past its exp.
    first_try, last_try = (
        verified_logout_token(t)[1] for t in (receiver.tokens[0], receiver.tokens[2])
    )
    assert last_try["jti"] != first_try["jti"]
    assert last_try["sid"] == first_try["sid"]
    assert last_try["sub"] == first_try["sub"]
    failures = AuditEvent.objects.filter(event="application.logout_failed").order_by("pk")
    assert [e.detail["attempt"] for e in failures] == [1, 2]
    assert failures[0].organization_id == administrator.organization_id


def test_a_delivery_is_given_up_after_its_last_retry(
    app: tuple[Application, str],
    administrator: Membership,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.statuses = [500] * (len(backchannel.RETRIES) + 1)
    browser, _ = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    moment = clock.now()
    for _ in backchannel.RETRIES:
        moment += timedelta(days=1)
        backchannel.deliver_due(moment)
    delivery = LogoutDelivery.objects.get()
    assert delivery.given_up_at is not None
    assert delivery.attempts == len(backchannel.RETRIES) + 1
    assert backchannel.deliver_due(moment + timedelta(days=30)) == (0, 0)
    last = AuditEvent.objects.filter(event="application.logout_failed").latest("pk")
    assert last.detail["given_up"] is True


def test_an_unreachable_application_does_not_hold_the_sign_out(
    app: tuple[Application, str],
    administrator: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    Application.objects.update(backchannel_logout_uri="http://127.0.0.1:9/logout")  # discard port
    browser, _ = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        answer = browser.post("/accounts/logout/")
    assert answer.status_code == 302
    assert LogoutDelivery.objects.get().last_error.startswith("ConnectionError")


# --- Subjects -------------------------------------------------------------------------------------


def test_oidc_core_8_1_pairwise_subjects_differ_per_application_and_stay_stable(
    app: tuple[Application, str], administrator: Membership
) -> None:
    other = Application.objects.create(
        name="Acme CRM",
        organization=administrator.organization,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=app[0].redirect_uris,
        client_secret="crm-secret-of-some-length",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    Application.objects.update(subject_type="pairwise")
    wiki = (Application.objects.get(pk=app[0].pk), app[1])
    crm = (other, "crm-secret-of-some-length")
    subjects = [
        id_token_claims(signed_in_to(a, administrator)[1]["id_token"])["sub"]
        for a in (wiki, crm, wiki)
    ]
    assert subjects[0] != subjects[1]
    assert subjects[0] == subjects[2]
    assert str(administrator.user.pk) not in subjects


def test_public_subjects_are_the_members_id(
    app: tuple[Application, str], administrator: Membership
) -> None:
    claims = id_token_claims(signed_in_to(app, administrator)[1]["id_token"])
    assert claims["sub"] == str(administrator.user.pk)


def test_discovery_offers_back_channel_logout_and_pairwise_subjects() -> None:
    document = json.loads(Client().get("/oauth/.well-known/openid-configuration").content)
    assert document["backchannel_logout_supported"] is True
    assert document["backchannel_logout_session_supported"] is True
    assert document["subject_types_supported"] == ["public", "pairwise"]


def test_the_deliver_logouts_command_says_what_it_did(tmp_path: Any) -> None:
    from tests.test_cli import twofold

    assert twofold("migrate", data_dir=tmp_path).returncode == 0
    result = twofold("deliver-logouts", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Delivered 0 logout tokens; 0 failed."


def test_oidc_rp_initiated_logout_ends_this_sessions_tokens_and_not_another_sessions(
    app: tuple[Application, str],
    administrator: Membership,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    Application.objects.update(post_logout_redirect_uris="http://127.0.0.1:9000/signed-out")
    browser, here = signed_in_to(app, administrator)
    _, elsewhere = signed_in_to(app, administrator)
    query = {
        "id_token_hint": here["id_token"],
        "post_logout_redirect_uri": "http://127.0.0.1:9000/signed-out",
        "state": "st",
    }
    asked = browser.get("/oauth/logout/", query)
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Sign out of Acme Wiki?" in page  # Twofold's page, not the toolkit's bare one
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post("/oauth/logout/", {**hidden, "allow": "Logout"})
    assert done.status_code == 302
    assert done["Location"].startswith("http://127.0.0.1:9000/signed-out")
    assert_tokens_ended(app, here)
    assert userinfo(elsewhere["access_token"]) == 200
    assert len(receiver.tokens) == 1
    assert (
        verified_logout_token(receiver.tokens[0])[1]["sid"]
        == id_token_claims(here["id_token"])["sid"]
    )
