"""The metrics move by the right amounts, read as Prometheus reads them: the exposition parsed by
prometheus_client's own parser. Counters are process-wide, so each test compares a scrape
after with one before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import MOBILE, PASSWORD, freshly_signed_in
from tests.idp.test_code_flow import application as application
from tests.idp.test_code_flow import authorize, callback_parameters, pkce, redeem
from twofold import metrics
from twofold.errors import TooManyRequests
from twofold.sms import delivery
from twofold.sms.delivery import send_sms
from twofold.sms.gateway import SmsError
from twofold.users.hash_slots import HashSlots

HEADLESS = "/_allauth/browser/v1"
BODY = "Your Twofold code is 123456.\n\n@login.test #123456"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape() -> Samples:
    text = metrics.exposition().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


class Moved:
    """How far each sample moved since this object was made."""

    def __init__(self) -> None:
        self.before = scrape()
        self.after: Samples | None = None

    def __call__(self, name: str, **labels: str) -> float:
        self.after = self.after or scrape()
        key = (name, frozenset(labels.items()))
        return self.after.get(key, 0.0) - self.before.get(key, 0.0)


@pytest.fixture
def moved() -> Callable[[], Moved]:
    return Moved


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def sign_in_by_page(client: Client, email: str, code: Callable[[], str]) -> None:
    client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert client.post("/accounts/2fa/", {"code": code()}).status_code == 302


def sign_in_by_api(client: Client, email: str, code: Callable[[], str]) -> None:
    login = {"email": email, "password": PASSWORD}
    client.post(f"{HEADLESS}/auth/login", login, content_type="application/json")
    answer = client.post(f"{HEADLESS}/auth/2fa/sms", {"code": code()}, "application/json")
    assert answer.status_code == 200, answer.content


@pytest.mark.parametrize("sign_in", [sign_in_by_page, sign_in_by_api], ids=["page", "api"])
def test_a_password_and_sms_sign_in_counts_each_step_and_one_session_once(
    sign_in, client, member_with_sms, sms_outbox, moved
):
    counted = moved()
    sign_in(client, member_with_sms.user.email, sms_outbox.last_code)

    assert counted("twofold_sign_ins_total", method="password", outcome="success") == 1
    assert counted("twofold_sign_ins_total", method="sms", outcome="success") == 1
    assert counted("twofold_sign_ins_total", method="sms", outcome="failure") == 0
    assert counted("twofold_sign_ins_completed_total", aal="aal2") == 1
    assert counted("twofold_sms_texts_total", purpose="sign_in", outcome="sent") == 1
    assert counted("twofold_sms_sends_total", gateway="outbox", outcome="sent") == 1
    assert counted("twofold_second_factor_failures_total", method="sms", purpose="sign_in") == 0


def test_requests_are_counted_and_timed_by_route_never_by_path(client, member, moved):
    counted = moved()
    client.get("/healthz")
    client.get("/invitations/a-secret-key-of-a-link/")
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})

    assert counted("twofold_http_requests_total", route="healthz", method="GET", status="200") == 1
    route = "invitations/<str:token>/"
    assert counted("twofold_http_request_duration_seconds_count", route=route) == 1
    assert counted("twofold_http_request_duration_seconds_count", route="accounts/login/") == 1
    assert (
        counted("twofold_http_requests_total", route="accounts/login/", method="POST", status="302")
        == 1
    )
    assert "a-secret-key-of-a-link" not in metrics.exposition().decode()


def test_an_unknown_method_and_path_take_fixed_labels(moved):
    counted = moved()
    Client().generic("BREW", "/coffee-pot/")
    assert counted("twofold_http_requests_total", route="unmatched", method="other", status="404")
    assert "coffee-pot" not in metrics.exposition().decode()


def test_a_wrong_code_counts_a_failed_step_and_a_second_factor_failure(
    client, member_with_sms, sms_outbox, moved
):
    client.post("/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD})
    counted = moved()
    client.post("/accounts/2fa/", {"code": wrong(sms_outbox.last_code())})

    assert counted("twofold_sign_ins_total", method="sms", outcome="failure") == 1
    assert counted("twofold_sign_ins_total", method="sms", outcome="success") == 0
    assert counted("twofold_second_factor_failures_total", method="sms", purpose="sign_in") == 1
    assert counted("twofold_sign_ins_completed_total", aal="aal2") == 0


def test_the_lock_is_counted_once_and_then_each_refused_step(
    client, member_with_sms, sms_outbox, settings, moved
):
    settings.TWOFOLD = replace(settings.TWOFOLD, second_factor_failure_limit=1)
    client.post("/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD})
    code = sms_outbox.last_code()
    counted = moved()
    client.post("/accounts/2fa/", {"code": wrong(code)})  # the limit reached: locked
    client.post("/accounts/2fa/", {"code": code})  # the right code, refused while locked

    assert counted("twofold_second_factor_locks_total") == 1
    assert counted("twofold_sign_ins_total", method="sms", outcome="locked") == 1
    assert counted("twofold_sign_ins_total", method="sms", outcome="success") == 0


def test_a_wrong_password_counts_a_failed_password_step(client, member, moved):
    counted = moved()
    client.post("/accounts/login/", {"login": member.user.email, "password": "not-the-password"})
    assert counted("twofold_sign_ins_total", method="password", outcome="failure") == 1
    assert counted("twofold_sign_ins_total", method="password", outcome="success") == 0


class _Gateway:
    def __init__(self, name: str, error: SmsError | None = None) -> None:
        self.name, self.error = name, error

    def send(self, to: str, body: str) -> str:
        if self.error is not None:
            raise self.error
        return f"{self.name}-1"


@pytest.fixture
def gateways(monkeypatch) -> Callable[..., None]:
    def use(*found: _Gateway) -> None:
        monkeypatch.setattr(delivery, "configured_gateways", lambda: list(found))

    return use


@pytest.mark.django_db
def test_a_failover_counts_the_failed_attempt_the_failover_and_the_sent_text(
    gateways, member, moved
):
    gateways(_Gateway("twilio", SmsError("twilio: HTTP 500", retryable=True)), _Gateway("sns"))
    counted = moved()
    send_sms(MOBILE, BODY, purpose="sign_in", user=member.user)

    assert counted("twofold_sms_sends_total", gateway="twilio", outcome="failed") == 1
    assert counted("twofold_sms_sends_total", gateway="sns", outcome="sent") == 1
    assert counted("twofold_sms_failovers_total", gateway="twilio") == 1
    assert counted("twofold_sms_texts_total", purpose="sign_in", outcome="sent") == 1


@pytest.mark.django_db
def test_a_text_no_gateway_took_counts_as_unavailable_without_a_failover_past_the_last(
    gateways, member, moved
):
    down = SmsError("down", retryable=True)
    gateways(_Gateway("twilio", down), _Gateway("sns", down))
    counted = moved()
    with pytest.raises(Exception, match="could not send"):
        send_sms(MOBILE, BODY, purpose="enroll", user=member.user)

    assert counted("twofold_sms_sends_total", gateway="sns", outcome="failed") == 1
    assert counted("twofold_sms_failovers_total", gateway="twilio") == 1
    assert counted("twofold_sms_failovers_total", gateway="sns") == 0
    assert counted("twofold_sms_texts_total", purpose="enroll", outcome="unavailable") == 1


@pytest.mark.django_db
def test_a_daily_limit_refusal_is_counted_by_its_limit(gateways, member, settings, moved):
    sms = replace(settings.TWOFOLD.sms, limit_per_number=1)
    settings.TWOFOLD = replace(settings.TWOFOLD, sms=sms)
    gateways(_Gateway("outbox"))
    send_sms(MOBILE, BODY, purpose="sign_in", user=member.user)
    counted = moved()
    with pytest.raises(TooManyRequests):
        send_sms(MOBILE, BODY, purpose="sign_in", user=member.user)

    assert counted("twofold_rate_limit_refusals_total", limit="sms_per_number") == 1
    assert counted("twofold_sms_sends_total", gateway="outbox", outcome="sent") == 0


def test_a_resend_within_the_cooldown_is_counted_as_a_refusal(
    client, member_with_sms, sms_outbox, moved
):
    client.post("/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD})
    counted = moved()
    client.post("/accounts/2fa/resend/")
    assert counted("twofold_rate_limit_refusals_total", limit="sms_resend_cooldown") == 1


def test_the_failed_sign_in_limit_is_counted(client, member, settings, moved):
    counted = moved()
    for _ in range(6):  # allauth's default: 5 failures per account within 5 minutes
        client.post("/accounts/login/", {"login": member.user.email, "password": "wrong"})
    assert counted("twofold_rate_limit_refusals_total", limit="login_failed") >= 1
    assert counted("twofold_sign_ins_total", method="password", outcome="locked") >= 1


def test_a_token_issued_is_counted_by_its_grant_type(
    application: Any,
    administrator,
    moved,
):
    app, secret = application
    client = freshly_signed_in(Client(), administrator)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(client, app, challenge))["code"]
    counted = moved()
    assert redeem(app, secret, code, verifier).status_code == 200

    assert counted("twofold_tokens_issued_total", grant_type="authorization_code") == 1
    assert counted("twofold_tokens_issued_total", grant_type="refresh_token") == 0


def test_every_password_hash_records_its_wait_for_a_slot(tmp_path, moved):
    slots = HashSlots(tmp_path, 1)
    counted = moved()
    with slots.held():
        pass
    assert counted("twofold_password_hash_slot_wait_seconds_count") == 1


def test_a_clean_up_run_counts_its_outcome_and_what_it_deleted(moved):
    counted = moved()
    metrics.cleanup_ran("audit", "success", deleted=7)
    metrics.cleanup_ran("audit", "failure")

    assert counted("twofold_cleanup_runs_total", job="audit", outcome="success") == 1
    assert counted("twofold_cleanup_runs_total", job="audit", outcome="failure") == 1
    assert counted("twofold_cleanup_deleted_total", job="audit") == 7
