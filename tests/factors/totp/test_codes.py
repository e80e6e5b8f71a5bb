"""TOTP codes (RFC 6238): the generator against the RFC's vectors, and single use."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from allauth.mfa.models import Authenticator

from tests.conftest import give_totp_factor
from twofold.factors.totp import codes

# RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII key "12345678901234567890", 8 digits.
RFC_6238_KEY = base64.b32encode(b"12345678901234567890").decode()
RFC_6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "expected"), RFC_6238_SHA1)
def test_rfc_6238_vectors(settings, unix_time, expected):
    settings.MFA_TOTP_DIGITS = 8  # the RFC's vectors have 8 digits; Twofold's codes 6
    at = datetime.fromtimestamp(unix_time, tz=UTC)
    assert codes.code_at(RFC_6238_KEY, at) == expected


@pytest.mark.parametrize(("unix_time", "expected"), RFC_6238_SHA1)
def test_rfc_6238_vectors_truncated_to_six_digits_are_accepted(unix_time, expected):
    at = datetime.fromtimestamp(unix_time, tz=UTC)
    assert codes.code_at(RFC_6238_KEY, at) == expected[-6:]
    assert codes.matching_step(RFC_6238_KEY, expected[-6:], at) == unix_time // 30


def test_codes_of_one_step_either_side_are_accepted_and_no_further():
    now = datetime(2026, 1, 1, 12, 0, 15, tzinfo=UTC)
    secret = codes.generate_totp_secret()
    for steps, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = codes.code_at(secret, now + timedelta(seconds=30 * steps))
        assert (codes.matching_step(secret, code, now) is not None) is accepted, steps


def test_a_wrong_or_malformed_code_matches_no_step():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    secret = codes.generate_totp_secret()
    right = codes.code_at(secret, now)
    assert codes.matching_step(secret, f"{(int(right) + 1) % 10**6:06d}", now) is None
    assert codes.matching_step(secret, "", now) is None
    assert codes.matching_step(secret, "abcdef", now) is None


def test_totp_secret_has_160_bits():
    assert len(base64.b32decode(codes.generate_totp_secret())) == 20  # RFC 4226 R6


def _app(membership) -> int:
    """The id of an authenticator app of ``membership``, its steps to mark."""
    give_totp_factor(membership)
    return Authenticator.objects.get(user=membership.user, type=Authenticator.Type.TOTP).pk


def test_a_time_step_is_used_once_per_app(member, administrator):
    app, other = _app(member), _app(administrator)
    assert codes.mark_used(app, 1000) is True
    assert codes.mark_used(app, 1000) is False  # the replay
    assert codes.mark_used(app, 1001) is True
    assert codes.mark_used(other, 1000) is True  # another member's


def test_asvs_6_5_1_an_older_step_is_refused_after_a_newer_one(member, administrator):
    app, other = _app(member), _app(administrator)
    assert codes.mark_used(app, 1000) is True
    assert codes.mark_used(app, 999) is False  # still inside the drift window, but older
    assert codes.mark_used(app, 998) is False
    assert codes.mark_used(other, 999) is True  # another member's
