"""No GET (a safe method, which a link or an image on another site can make) texts anything:
every address of Twofold without a parameter, pages and API, opened in each state where a text
could go out (ASVS 3.5.3)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor, require_two_factor
from twofold.factors.sms.models import PendingSmsEnrollment
from twofold.organizations.models import Membership
from twofold.sms.models import SmsDelivery

# A regular expression of a fixed address: no group, nothing but escaped dots.
_FIXED = re.compile(r"^\^?((?:[\w\-/]|\\\.)*)\$?$")


def fixed_addresses() -> list[str]:
    """Every address of the URL configuration that takes no parameter."""
    return sorted(set(_walk(get_resolver().url_patterns, "/")))


def _walk(patterns: list[Any], prefix: str) -> Iterator[str]:
    for entry in patterns:
        part = _fixed(entry.pattern)
        if part is None:
            continue
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + part)
        elif isinstance(entry, URLPattern):
            yield prefix + part


def _fixed(pattern: Any) -> str | None:
    if isinstance(pattern, RoutePattern):
        return None if pattern.converters else str(pattern)
    found = _FIXED.match(str(pattern))
    return found.group(1).replace("\\.", ".") if found else None


def attempts() -> int:
    """Texts handed, or about to be handed, to a gateway: sent, failed or reserved."""
    return SmsDelivery.objects.count()


@pytest.fixture(autouse=True)
def _every_attempt_goes_out(settings: Any) -> None:
    """No cooldown or limit in the way: a GET that tried to text would leave a row."""
    high = dict.fromkeys(
        ("limit_per_number", "limit_per_user", "limit_per_ip", "limit_per_organization"), 10**6
    )
    sms = replace(settings.TWOFOLD.sms, **high)
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_resend_cooldown=0, sms=sms)


def _signed_in_with_a_change_of_number(member: Membership) -> Client:
    """Signed in at aal2, changing the number (a code of the change is open)."""
    client = freshly_signed_in(Client(), member, second_factor="sms")
    client.post("/settings/security/2fa/change-number/", {"country": "CH", "phone": "0791112233"})
    return client


def _at_the_second_factor_step(member: Membership) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    return client


def _at_the_forced_enrollment(member: Membership) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    client.post("/accounts/2fa/enroll/number/", {"country": "CH", "phone": "0791112233"})
    return client


def _changing_the_number(client: Client, member: Membership) -> bool:
    return "_auth_user_id" in client.session and _enrolling(client, member)


def _pending_login(client: Client, member: Membership) -> bool:
    return "account_login" in client.session


def _enrolling(client: Client, member: Membership) -> bool:
    return PendingSmsEnrollment.objects.filter(user=member.user).exists()


# Each state: how to reach it, and whether a client is still in it.
STATES: dict[str, tuple[Callable[[Membership], Client], Callable[[Client, Membership], bool]]] = {
    "signed in at aal2, changing the number": (
        _signed_in_with_a_change_of_number,
        _changing_the_number,
    ),
    "at the second-factor step": (_at_the_second_factor_step, _pending_login),
    "at the forced enrollment, a number entered": (
        _at_the_forced_enrollment,
        lambda client, member: _pending_login(client, member) and _enrolling(client, member),
    ),
}


@pytest.mark.parametrize("state", STATES)
def test_asvs_3_5_3_no_get_texts_anything(member: Membership, sms_outbox: Any, state: str) -> None:
    if state == "at the forced enrollment, a number entered":
        require_two_factor(member.organization)
    else:
        give_sms_factor(member)
    reach, holds = STATES[state]
    addresses = fixed_addresses()
    assert "/accounts/2fa/reauthenticate/" in addresses

    client = reach(member)
    texting = []
    for address in addresses:
        if not holds(client, member):  # the address before ended the state: reach it again
            cache.clear()  # allauth's sign-in rate limits: the crawl signs in again and again
            client = reach(member)
            assert holds(client, member), state
        client.raise_request_exception = False  # an address that fails still must not text
        before = attempts()
        client.get(address, headers={"Sec-Fetch-Site": "cross-site"})
        if attempts() != before:
            texting.append(address)

    assert texting == []
