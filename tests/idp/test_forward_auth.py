"""Forward-auth's rule (idp/forward_auth.py): what the proxy may ask, what a session's proof meets,
and where the sign-in may send the browser back to."""

from __future__ import annotations

import time

import pytest

from twofold.idp import forward_auth
from twofold.idp.forward_auth import Proof, Required, Verdict
from twofold.idp.step_up import Missing

NOW = 1_800_000_000.0
AAL1 = "urn:twofold:aal1"
AAL2 = "urn:twofold:aal2"
HOSTS = ("app.example.test", "grafana.example.test:8443", ".intranet.test", "127.0.0.1:8080")


def proved(acr: str = AAL1, ago: float | None = 10) -> Proof:
    amr = ["pwd", "sms"] if acr == AAL2 else ["pwd"]
    return Proof(amr=amr, acr=acr, auth_time=None if ago is None else int(NOW - ago))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, Required()),
        ({"aal": "1"}, Required()),
        ({"aal": "2"}, Required(aal2=True)),
        ({"aal": "2", "max_age": "300", "account": "7"}, Required(True, 300, 7)),
        ({"max_age": "0"}, Required(max_age=0)),
        ({"aal": "", "max_age": "", "account": ""}, Required()),
    ],
)
def test_the_ask_is_aal_max_age_and_account(query, expected):
    assert forward_auth.required(query) == expected
    assert forward_auth.required(expected.as_query()) == expected  # the sign-in link asks alike


@pytest.mark.parametrize(
    "query",
    [
        {"aal": "3"},
        {"aal": "aal2"},
        {"max_age": "-1"},
        {"max_age": "5m"},
        {"max_age": "١٢"},  # Arabic-Indic digits are digits to str.isdigit, not to the check
        {"max_age": "9" * 11},
        {"account": "acme"},
    ],
)
def test_a_malformed_ask_is_refused(query):
    with pytest.raises(forward_auth.InvalidRequest):
        forward_auth.required(query)


def test_proof_names_the_methods_the_level_and_the_last_authentication_without_writing():
    session = {
        "account_authentication_methods": [
            {"method": "password", "at": NOW - 100},
            {"method": "mfa", "type": "sms", "at": NOW - 90.5},
        ],
        "account_authentication_methods_user": "42",
    }
    before = dict(session)
    assert forward_auth.proof(session, 42) == Proof(["pwd", "sms"], AAL2, int(NOW - 90.5))
    assert session == before  # no sid, nothing added (the identity provider's proof adds one)
    assert forward_auth.proof(session, 43) == Proof([], AAL1, None)  # another user's records


def test_nothing_asked_lets_any_signed_in_session_through():
    assert forward_auth.shortfall(Required(), proved(ago=None), NOW) is None


def test_aal2_asked_of_an_aal1_session_needs_the_second_factor():
    assert forward_auth.shortfall(Required(aal2=True), proved(AAL1), NOW) is Missing.SECOND_FACTOR
    assert forward_auth.shortfall(Required(aal2=True), proved(AAL2), NOW) is None


def test_max_age_counts_from_the_last_authentication():
    asked = Required(max_age=60)
    assert forward_auth.shortfall(asked, proved(ago=59), NOW) is None
    assert forward_auth.shortfall(asked, proved(ago=61), NOW) is Missing.PASSWORD
    assert forward_auth.shortfall(asked, proved(ago=None), NOW) is Missing.PASSWORD


def test_aal2_with_max_age_needs_a_recent_second_factor_session():
    asked = Required(aal2=True, max_age=60)
    assert forward_auth.shortfall(asked, proved(AAL2, ago=30), NOW) is None
    assert forward_auth.shortfall(asked, proved(AAL2, ago=61), NOW) is Missing.SECOND_FACTOR


def test_another_account_is_forbidden_whatever_the_session_proves():
    asked = Required(aal2=True, account=7)
    assert forward_auth.verdict(asked, proved(AAL1), organization_id=8, now=NOW) is (
        Verdict.FORBIDDEN
    )
    assert forward_auth.verdict(asked, proved(AAL1), 7, NOW) is Verdict.STEP_UP
    assert forward_auth.verdict(asked, proved(AAL2), 7, NOW) is Verdict.ALLOWED


def test_verdict_reads_the_clock_when_not_given():
    fresh = Proof(["pwd"], AAL1, int(time.time()))
    assert forward_auth.verdict(Required(max_age=60), fresh, 1) is Verdict.ALLOWED


def test_rfc_9470_challenge_names_the_level_and_the_age_asked():
    assert forward_auth.step_up_challenge(Required(aal2=True, max_age=300)) == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A stronger or more recent authentication is required", '
        f'acr_values="{AAL2}", max_age=300'
    )
    only_age = forward_auth.step_up_challenge(Required(max_age=0))
    assert "acr_values" not in only_age
    assert only_age.endswith(", max_age=0")


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.test/",
        "http://app.example.test/reports?month=11&year=2026#top",
        "https://APP.example.test/",  # host names are case-insensitive
        "https://grafana.example.test:8443/d/1",
        "https://intranet.test/",
        "https://wiki.intranet.test/page",
        "http://127.0.0.1:8080/",
    ],
)
def test_return_url_on_a_configured_host_is_kept(url):
    assert forward_auth.return_url(url, HOSTS) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/",
        "https://app.example.test.evil.test/",
        "https://evilapp.example.test/",
        "https://grafana.example.test/",  # its entry names port 8443 only
        "https://grafana.example.test:8444/",
        "http://127.0.0.1:8081/",
        "/relative/path",
        "//evil.test/",
        "//app.example.test/",  # scheme-relative: never, even to a configured host
        "https:evil.test",
        "https:/evil.test",
        "https:///evil.test",
        "https:\\\\evil.test",
        "https://app.example.test\\@evil.test/",
        "/\\evil.test",
        "\\\\evil.test",
        "https://app.example.test@evil.test/",
        "https://user:pass@app.example.test/",
        "javascript:alert(1)//app.example.test",
        "data:text/html,app.example.test",
        "ftp://app.example.test/",
        " https://app.example.test/",
        "https://app.example.test/\r\nSet-Cookie: x=1",
        "https://app.example.test\t.evil.test/",
        "https://app.example.test:99999/",
        "https://[::1/",
        "",
    ],
)
def test_return_url_refuses_other_hosts_and_open_redirect_tricks(url):
    assert forward_auth.return_url(url, HOSTS) is None


def test_return_url_to_no_host_when_none_is_configured():
    assert forward_auth.return_url("https://app.example.test/", ()) is None


def test_return_url_matches_a_port_given_only_by_its_scheme():
    assert forward_auth.return_url("https://a.test/", ("a.test:443",)) == "https://a.test/"
    assert forward_auth.return_url("http://a.test/", ("a.test:443",)) is None
    assert forward_auth.return_url("http://[::1]:8443/", ("[::1]:8443",)) == "http://[::1]:8443/"
