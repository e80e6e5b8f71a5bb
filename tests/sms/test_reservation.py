"""A text is reserved before any gateway is asked: the cooldown and the daily limits hold under
simultaneous sends (20 threads, real transactions), and a failed send gives its place back."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections

from tests.concurrency import at_once
from tests.conftest import MOBILE
from tests.sms.test_limits import HIGH, IP, LIMITS, other_number
from twofold import clock
from twofold.errors import FlowError, TooManyRequests, Unavailable
from twofold.factors.sms import codes
from twofold.factors.sms.models import SmsCode
from twofold.organizations.models import Membership
from twofold.sms import delivery
from twofold.sms.delivery import send_sms
from twofold.sms.gateway import SmsError
from twofold.sms.models import DeliveryStatus, SmsDelivery
from twofold.users.models import User

BODY = "Your Twofold code is 123456.\n\n@login.test #123456"
LIMIT = 10


class Gateway:
    """A gateway of the test: accepts (or fails) each text, optionally once ``opened`` is set."""

    name = "test"

    def __init__(self, *, fails: bool = False) -> None:
        self.fails = fails
        self.texts: list[str] = []
        self.asked = threading.Event()
        self.opened: threading.Event | None = None
        self._lock = threading.Lock()

    def send(self, to: str, body: str) -> str:
        self.asked.set()
        if self.opened is not None:
            assert self.opened.wait(timeout=30), "the test never let the text through"
        if self.fails:
            raise SmsError("provider down", retryable=True)
        with self._lock:
            self.texts.append(to)
            return f"id-{len(self.texts)}"


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Gateway:
    fake = Gateway()
    monkeypatch.setattr(delivery, "configured_gateways", lambda: [fake])
    return fake


def sent() -> int:
    return SmsDelivery.objects.filter(status=DeliveryStatus.SENT).count()


def refusals(outcomes: list[object]) -> list[str]:
    return sorted(o.code if isinstance(o, FlowError) else repr(o) for o in outcomes)


@pytest.mark.django_db(transaction=True)
def test_asvs_6_6_3_twenty_simultaneous_resends_after_the_cooldown_send_one_text(
    member_with_sms: Membership, gateway: Gateway
) -> None:
    user_pk = member_with_sms.user.pk
    cooldown = settings.TWOFOLD.sms_resend_cooldown
    earlier = clock.now() - timedelta(seconds=cooldown + 1)
    codes.issue_code(member_with_sms.user, MOBILE, purpose="sign_in", binding="b", now=earlier)

    def resend() -> SmsCode:
        user = User.objects.select_related("membership__organization").get(pk=user_pk)
        return codes.issue_code(user, MOBILE, purpose="sign_in", binding="b")

    outcomes = at_once(resend)

    assert refusals([o for o in outcomes if not isinstance(o, SmsCode)]) == (
        ["sms_resend_cooldown"] * 19
    )
    assert len(gateway.texts) == 2  # the first code, and one of the 20 resends
    assert sent() == 2
    assert SmsCode.objects.filter(user_id=user_pk, superseded=False).count() == 1


def _sharing(scope: str, n: int, member: Membership) -> dict[str, object]:
    """The ``n``-th of 20 texts that share ``scope`` and no other limited scope."""
    return {
        "number": {"to": MOBILE},
        "user": {"to": other_number(n), "user": member.user},
        "ip": {"to": other_number(n), "ip": IP},
        "organization": {"to": other_number(n), "organization": member.organization},
    }[scope]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("limit", LIMITS)
def test_asvs_2_4_1_twenty_simultaneous_sends_never_pass_a_daily_limit(
    member: Membership, gateway: Gateway, sms_settings, limit: str
) -> None:
    scope, message = LIMITS[limit]
    sms_settings(**{**dict.fromkeys(LIMITS, HIGH), limit: LIMIT})
    numbered = iter(range(20))
    lock = threading.Lock()

    def send() -> SmsDelivery:
        with lock:
            n = next(numbered)
        return send_sms(purpose="enroll", body=BODY, **_sharing(scope, n, member))  # type: ignore[arg-type]

    outcomes = at_once(send)

    limited = [o for o in outcomes if isinstance(o, TooManyRequests)]
    assert len(limited) == 20 - LIMIT, refusals(outcomes)
    assert all(o.code == "sms_limit" and o.message.startswith(message) for o in limited)
    assert len(gateway.texts) == LIMIT
    assert sent() == LIMIT


def _send_and_close(to: str) -> None:
    try:
        send_sms(to, BODY, purpose="enroll")
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_asvs_2_4_1_a_text_in_flight_counts_against_the_limits(
    member: Membership, gateway: Gateway, sms_settings
) -> None:
    sms_settings(**{**dict.fromkeys(LIMITS, HIGH), "limit_per_number": 1})
    gateway.opened = threading.Event()
    first = threading.Thread(target=_send_and_close, args=(MOBILE,))
    first.start()
    try:
        assert gateway.asked.wait(timeout=30)  # the first text is with the provider now
        with pytest.raises(TooManyRequests) as raised:
            send_sms(MOBILE, BODY, purpose="enroll", user=member.user)
        assert raised.value.code == "sms_limit"
    finally:
        gateway.opened.set()
        first.join(timeout=30)
    assert gateway.texts == [MOBILE]
    assert sent() == 1


@pytest.mark.django_db(transaction=True)
def test_asvs_2_4_1_a_failed_send_releases_its_reservation(
    member_with_sms: Membership, gateway: Gateway, sms_settings
) -> None:
    sms_settings(**{**dict.fromkeys(LIMITS, HIGH), "limit_per_number": 1})
    user = member_with_sms.user
    gateway.fails = True
    with pytest.raises(Unavailable):
        codes.issue_code(user, MOBILE, purpose="sign_in", binding="b")
    assert not SmsDelivery.objects.exclude(status=DeliveryStatus.FAILED).exists()

    gateway.fails = False  # the provider is back: no cooldown, no limit stands in the way
    codes.issue_code(user, MOBILE, purpose="sign_in", binding="b")
    assert gateway.texts == [MOBILE]
    assert codes.seconds_until_resend(user, "sign_in", clock.now()) > 0


@pytest.mark.django_db(transaction=True)
def test_asvs_6_6_3_twenty_simultaneous_resends_to_a_failing_provider_leave_no_cooldown(
    member_with_sms: Membership, gateway: Gateway
) -> None:
    user_pk = member_with_sms.user.pk
    gateway.fails = True

    def resend() -> SmsCode:
        user = User.objects.select_related("membership__organization").get(pk=user_pk)
        return codes.issue_code(user, MOBILE, purpose="sign_in", binding="b")

    outcomes = at_once(resend)

    assert all(isinstance(o, (Unavailable, TooManyRequests)) for o in outcomes), outcomes
    assert not SmsDelivery.objects.exclude(status=DeliveryStatus.FAILED).exists()
    assert codes.seconds_until_resend(User.objects.get(pk=user_pk), "sign_in", clock.now()) == 0
