"""A sign-up with an address that has an account answers like a new sign-up and costs the same
(ASVS 6.3.8): the same password hash and the same rows written (then rolled back), so neither
the answer nor its time says whether the address is taken.

Timing is compared by counting what costs time (password hashes, statements by kind and
table), not by a stopwatch (tests/signin/test_enumeration.py does the same for sign-in); the
figures measured with a stopwatch are in docs/security.md.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import get_hasher
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from twofold.organizations.models import Membership, Organization
from twofold.users.models import User

SIGN_UP_PASSWORD = "a long sign-up passphrase 7"
WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', re.IGNORECASE)
READ = re.compile(r'^\s*SELECT\b.*?\bFROM\s+"?(\w+)"?', re.IGNORECASE | re.DOTALL)


@pytest.fixture
def count_hashes(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many password hashes (made or checked) the requests computed."""
    hasher = type(get_hasher("argon2"))
    calls = {"hashes": 0}
    original_encode, original_verify = hasher.encode, hasher.verify

    def encode(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["hashes"] += 1
        return original_encode(self, *args, **kwargs)

    def verify(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["hashes"] += 1
        return original_verify(self, *args, **kwargs)

    monkeypatch.setattr(hasher, "encode", encode)
    monkeypatch.setattr(hasher, "verify", verify)
    return calls


def sign_up_page(email: str, n: int) -> Any:
    return Client(REMOTE_ADDR=f"10.4.0.{n}").post(
        "/accounts/signup/",
        {"email": email, "password1": SIGN_UP_PASSWORD, "organization_name": "Initech"},
    )


def sign_up_api(email: str, n: int, client_kind: str = "app") -> Any:
    return Client(REMOTE_ADDR=f"10.4.1.{n}").post(
        f"/_allauth/{client_kind}/v1/auth/signup",
        json.dumps({"email": email, "password": SIGN_UP_PASSWORD, "organization_name": "Initech"}),
        content_type="application/json",
    )


def statements(queries: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """The statements by kind and table (the rows differ, the work does not); transaction
    control (BEGIN, COMMIT, ROLLBACK, savepoints) left out."""
    found: Counter[tuple[str, str]] = Counter()
    for query in queries:
        if write := WRITE.match(query["sql"]):
            found[(write.group(1).upper(), write.group(2))] += 1
        elif read := READ.match(query["sql"]):
            found[("SELECT", read.group(1))] += 1
    return found


def cost(sign_up: Any, email: str, n: int, hashes: dict[str, int]) -> tuple[int, Counter]:
    hashes["hashes"] = 0
    with CaptureQueriesContext(connection) as captured:
        sign_up(email, n)
    return hashes["hashes"], statements(captured.captured_queries)


@pytest.mark.parametrize("sign_up", [sign_up_page, sign_up_api], ids=["page", "api"])
def test_asvs_6_3_8_a_sign_up_with_a_taken_address_costs_one_password_hash_like_a_new_one(
    member: Membership, count_hashes: dict[str, int], sign_up: Any
) -> None:
    taken, _ = cost(sign_up, member.user.email, 1, count_hashes)
    new, _ = cost(sign_up, "new-hire@initech.test", 2, count_hashes)

    assert new == 1
    assert taken == new


@pytest.mark.parametrize("sign_up", [sign_up_page, sign_up_api], ids=["page", "api"])
def test_asvs_6_3_8_a_sign_up_with_a_taken_address_runs_the_statements_of_a_new_one(
    member: Membership, count_hashes: dict[str, int], sign_up: Any
) -> None:
    _, taken = cost(sign_up, member.user.email, 1, count_hashes)
    _, new = cost(sign_up, "new-hire@initech.test", 2, count_hashes)

    for table in ("users_user", "organizations_organization", "organizations_membership"):
        assert new[("INSERT INTO", table)] == 1
    assert new[("INSERT INTO", "account_emailaddress")] == 1
    assert taken == new


@pytest.mark.parametrize("sign_up", [sign_up_page, sign_up_api], ids=["page", "api"])
def test_a_sign_up_with_a_taken_address_leaves_nothing_behind(
    member: Membership, sign_up: Any, outbox: list[Any]
) -> None:
    before = (User.objects.count(), Organization.objects.count(), EmailAddress.objects.count())

    sign_up(member.user.email, 1)

    after = (User.objects.count(), Organization.objects.count(), EmailAddress.objects.count())
    assert after == before
    assert Membership.objects.get(user=member.user) == member
    # The owner hears of it; nobody else does.
    assert [m.to for m in outbox] == [[member.user.email]]
    assert "Account Already Exists" in outbox[0].subject


def test_asvs_6_3_8_a_sign_up_with_a_taken_address_answers_like_a_new_one_on_the_page(
    member: Membership,
) -> None:
    taken = sign_up_page(member.user.email, 1)
    new = sign_up_page("new-hire@initech.test", 2)

    assert (taken.status_code, taken["Location"]) == (new.status_code, new["Location"])


@pytest.mark.parametrize("client_kind", ["browser", "app"])
def test_asvs_6_3_8_a_sign_up_with_a_taken_address_answers_like_a_new_one_in_the_api(
    member: Membership, client_kind: str
) -> None:
    taken = sign_up_api(member.user.email, 1, client_kind)
    new = sign_up_api("new-hire@initech.test", 2, client_kind)

    assert taken.status_code == new.status_code == 401
    taken_body, new_body = taken.json(), new.json()
    if client_kind == "app":  # each pending sign-up has a token of its own
        assert taken_body["meta"].pop("session_token") != new_body["meta"].pop("session_token")
    assert taken_body == new_body
