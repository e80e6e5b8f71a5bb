"""Unknown users and wrong passwords: the same message, the same status, about the same time.

DESIGN.md "no enumeration"; ASVS 6.3.8. Timing is compared by counting password-hash
computations (deterministic), not by a stopwatch.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.hashers import get_hasher

from tests.conftest import PASSWORD


@pytest.fixture
def count_hashes(monkeypatch):
    hasher = type(get_hasher("argon2"))
    calls = {"encode": 0, "verify": 0}
    original_encode, original_verify = hasher.encode, hasher.verify

    def encode(self, *args, **kwargs):
        calls["encode"] += 1
        return original_encode(self, *args, **kwargs)

    def verify(self, *args, **kwargs):
        calls["verify"] += 1
        return original_verify(self, *args, **kwargs)

    monkeypatch.setattr(hasher, "encode", encode)
    monkeypatch.setattr(hasher, "verify", verify)
    return calls


def attempt_page(client, email):
    response = client.post("/accounts/login/", {"login": email, "password": "wrong password 123"})
    return response.status_code, [str(e) for e in response.context["form"].non_field_errors()]


def test_unknown_user_and_wrong_password_get_the_same_page_message(client, member):
    assert attempt_page(client, member.user.email) == attempt_page(client, "nobody@acme.test")


def test_unknown_user_and_wrong_password_get_the_same_api_answer(client, member):
    def attempt(email):
        response = client.post(
            "/_allauth/browser/v1/auth/login",
            json.dumps({"email": email, "password": "wrong password 123"}),
            content_type="application/json",
        )
        return response.status_code, response.json()

    assert attempt(member.user.email) == attempt("nobody@acme.test")


def test_unknown_user_costs_one_password_hash_like_a_known_one(client, member, count_hashes):
    attempt_page(client, member.user.email)
    known = dict(count_hashes)
    count_hashes.update(encode=0, verify=0)
    attempt_page(client, "nobody@acme.test")
    unknown = dict(count_hashes)
    assert known["encode"] + known["verify"] == 1
    assert unknown["encode"] + unknown["verify"] == 1


def test_correct_password_signs_in(client, member):
    response = client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
