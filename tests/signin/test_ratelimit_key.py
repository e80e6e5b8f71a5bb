"""The failed sign-in limit counts per account, whatever the request says about itself (ASVS
6.3.1): allauth's key was the request's host + the email, so each spelling of the host (a port,
upper case, a trailing dot) started a fresh count of 5 for the same member."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from django.test import Client, override_settings

from tests.concurrency import at_once
from tests.conftest import PASSWORD
from twofold.organizations.models import Membership

PER_ACCOUNT = 5  # allauth's default: 5 failed sign-ins per account in 5 minutes
WRONG = "wrong guess 1234"
TOO_MANY = "too_many_login_attempts"

# Every spelling Django's host check lets through for the test server and the public URL's host.
HOSTS = [
    "testserver",
    "TESTSERVER",
    "TestServer",
    "testserver:80",
    "testserver:8443",
    "testserver.",
    "testserver.:80",
    "127.0.0.1",
    "127.0.0.1:8000",
    "127.0.0.1:1",
]
PRODUCTION_HOSTS = [
    "twofold.example",
    "TWOFOLD.EXAMPLE",
    "twofold.example:443",
    "twofold.example.",
    "Twofold.Example.:8443",
]


def _client(host: str, n: int) -> Client:
    """A browser of its own, from a client address of its own: the per-address limits (10 failed,
    30 attempts a minute) never answer, as for an attacker spread over many addresses."""
    return Client(HTTP_HOST=host, REMOTE_ADDR=f"10.0.{n // 250}.{n % 250 + 1}")


def page_guess(host: str, n: int, email: str, password: str = WRONG) -> str:
    """One sign-in on the page: "signed in", TOO_MANY, or "refused" (a wrong password)."""
    response = _client(host, n).post("/accounts/login/", {"login": email, "password": password})
    if response.status_code == 302:
        return "signed in"
    assert response.status_code == 200, response.status_code
    # The page, not the test client's template context: threads share its signal (the race).
    page = response.content.decode()
    if "Too many failed login attempts" in page:
        return TOO_MANY
    assert "password you specified are not correct" in page
    return "refused"


def api_guess(host: str, n: int, email: str, password: str = WRONG) -> str:
    """One sign-in through allauth's app API: "signed in" (or a pending stage), TOO_MANY, or
    "refused"."""
    response = _client(host, n).post(
        "/_allauth/app/v1/auth/login",
        json.dumps({"email": email, "password": password}),
        content_type="application/json",
    )
    if response.status_code in (200, 401):
        return "signed in"
    assert response.status_code == 400, response.status_code
    codes = [e["code"] for e in response.json()["errors"]]
    return TOO_MANY if TOO_MANY in codes else "refused"


Guess = Callable[..., str]


@pytest.mark.parametrize("guess", [page_guess, api_guess], ids=["page", "api"])
def test_asvs_6_3_1_the_per_account_limit_holds_whatever_the_host_header(
    member: Membership, guess: Guess
) -> None:
    email = member.user.email
    first = [guess("testserver", n, email) for n in range(PER_ACCOUNT)]
    assert first == ["refused"] * PER_ACCOUNT

    others = [guess(host, PER_ACCOUNT + n, email) for n, host in enumerate(HOSTS)]

    assert others == [TOO_MANY] * len(HOSTS)
    # The right password gains nothing while the limit holds, whatever the host.
    assert guess("TESTSERVER:8000", 99, email, PASSWORD) == TOO_MANY


@override_settings(ALLOWED_HOSTS=["twofold.example"])
@pytest.mark.parametrize("guess", [page_guess, api_guess], ids=["page", "api"])
def test_asvs_6_3_1_the_per_account_limit_holds_for_every_spelling_of_the_public_host(
    member: Membership, guess: Guess
) -> None:
    email = member.user.email
    answers = [guess(PRODUCTION_HOSTS[n % 5], n, email) for n in range(PER_ACCOUNT * 3)]

    assert answers == ["refused"] * PER_ACCOUNT + [TOO_MANY] * (PER_ACCOUNT * 2)


def test_asvs_6_3_1_the_page_and_the_api_share_the_account_limit(member: Membership) -> None:
    email = member.user.email
    answers = [page_guess("testserver", n, email) for n in range(3)]
    answers += [api_guess("testserver:8000", 3 + n, email) for n in range(2)]
    assert answers == ["refused"] * PER_ACCOUNT

    assert page_guess("TESTSERVER.", 10, email) == TOO_MANY
    assert api_guess("127.0.0.1", 11, email) == TOO_MANY


def test_asvs_6_3_1_the_account_limit_counts_the_email_in_any_case(member: Membership) -> None:
    spellings = ["bob@acme.test", "BOB@ACME.TEST", "Bob@Acme.Test", " bob@acme.test"]
    answers = [page_guess("testserver", n, spellings[n % 4]) for n in range(PER_ACCOUNT + 3)]

    assert answers == ["refused"] * PER_ACCOUNT + [TOO_MANY] * 3


def test_asvs_6_3_1_every_address_of_a_member_counts_towards_one_limit(
    member: Membership,
) -> None:
    """A member who added a second address at /accounts/email/ signs in with either: guesses
    at both are guesses at one password."""
    EmailAddress.objects.create(user=member.user, email="robert@home.test", verified=True)
    answers = [page_guess("testserver", n, "bob@acme.test") for n in range(3)]
    answers += [page_guess("testserver", 3 + n, "robert@home.test") for n in range(2)]
    assert answers == ["refused"] * PER_ACCOUNT

    assert page_guess("testserver", 10, "robert@home.test") == TOO_MANY
    assert page_guess("testserver", 11, "bob@acme.test") == TOO_MANY


def test_the_account_limit_of_one_member_leaves_another_alone(
    member: Membership, administrator: Membership
) -> None:
    for n in range(PER_ACCOUNT + 1):
        page_guess(HOSTS[n % len(HOSTS)], n, member.user.email)

    assert page_guess("testserver", 50, administrator.user.email, PASSWORD) == "signed in"


def test_a_right_password_still_gives_back_only_its_own_hit(member: Membership) -> None:
    email = member.user.email
    answers = [page_guess(HOSTS[n], n, email) for n in range(PER_ACCOUNT - 1)]
    assert page_guess("testserver:8000", 20, email, PASSWORD) == "signed in"

    assert page_guess("testserver.", 21, email) == "refused"
    assert page_guess("TESTSERVER", 22, email) == TOO_MANY
    assert answers == ["refused"] * (PER_ACCOUNT - 1)


def test_a_password_reset_clears_the_account_limit_whatever_host_it_came_from(
    member: Membership, outbox: list
) -> None:
    email = member.user.email
    for n in range(PER_ACCOUNT):
        page_guess(HOSTS[n], n, email)
    assert page_guess("testserver", 10, email, PASSWORD) == TOO_MANY

    reset = _client("TESTSERVER:8000", 11)
    reset.post("/accounts/password/reset/", {"email": email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", outbox[-1].body)
    assert link is not None
    form_page = reset.get(link.group(0), follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(0)
    new_password = "a brand new passphrase 42"
    done = reset.post(action, {"password1": new_password, "password2": new_password})
    assert done.status_code == 302

    assert page_guess("testserver.", 12, email, new_password) == "signed in"


@pytest.mark.django_db(transaction=True)
def test_asvs_6_3_1_twenty_simultaneous_guesses_over_twenty_hosts_check_five_passwords(
    member: Membership,
) -> None:
    email = member.user.email
    hosts = [*HOSTS, *(f"{host.split(':')[0]}:{9000 + i}" for i, host in enumerate(HOSTS))]
    taken = itertools.count()
    lock = threading.Lock()

    def guess() -> str:
        with lock:
            n = next(taken)
        return page_guess(hosts[n], n, email)

    outcomes = at_once(guess)

    assert sorted(map(str, outcomes)) == sorted(["refused"] * PER_ACCOUNT + [TOO_MANY] * 15)
