"""Password rules (ASVS 6.2.1, 6.2.4, 6.2.5, 6.2.8, 6.2.9, 6.2.11) and argon2id parameters."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import get_hasher
from django.core.exceptions import ValidationError

from twofold.users.models import User
from twofold.users.passwords import MAX_LENGTH, context_words


def valid(password: str, user: User | None = None) -> bool:
    try:
        password_validation.validate_password(password, user or User(email="carol@acme.test"))
    except ValidationError:
        return False
    return True


def test_asvs_6_2_1_passwords_shorter_than_8_are_refused():
    assert not valid("a1b2c3d")
    assert valid("a1b2c3d4e")


def test_asvs_6_2_4_common_passwords_are_refused():
    for common in ("password1", "12345678", "iloveyou", "qwertyuiop"):
        assert not valid(common), common


def test_asvs_6_2_5_no_composition_rules():
    assert valid("only lowercase words here")
    assert valid("ÄÖÜ 中文 ☃ emoji 🙂 fine")


def test_asvs_6_2_9_passwords_of_64_and_more_characters_are_allowed():
    assert valid("x7" * 64)
    assert not valid("y" * (MAX_LENGTH + 1))


@pytest.mark.parametrize("password", ["Twofold2024!", "carol-12", "Acme2024", "administrator1"])
def test_asvs_6_2_11_context_words_are_refused(password):
    assert not valid(password)


def test_context_words_include_the_organization_name(administrator):
    administrator.organization.name = "Initech Systems"
    administrator.organization.save()
    assert "initechsystems" in context_words(administrator.user)
    assert not valid("InitechSystems!", administrator.user)


def test_asvs_6_2_8_password_is_verified_exactly_as_typed(make_member):
    membership = make_member("dave@acme.test", password="Case Matters  ")
    user = membership.user
    assert user.check_password("Case Matters  ")
    assert not user.check_password("case matters  ")
    assert not user.check_password("Case Matters")


def test_passwords_are_hashed_with_argon2id_and_explicit_parameters(db):
    user = User.objects.create_user("erin@acme.test", "a long passphrase indeed")
    algorithm, variant, _, params, *_ = user.password.split("$")
    assert (algorithm, variant) == ("argon2", "argon2id")
    assert params.split(",") == ["m=19456", "t=2", "p=1"]
    hasher = get_hasher("argon2")
    assert (hasher.memory_cost, hasher.time_cost, hasher.parallelism) == (19456, 2, 1)
    # Verifiable by a plain argon2-cffi with the same parameters.
    encoded = user.password.removeprefix("argon2")
    PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID).verify(
        encoded, "a long passphrase indeed"
    )


def test_asvs_6_2_11_sign_up_refuses_a_password_built_on_the_new_account_name(client, db):
    page = client.post(
        "/accounts/signup/",
        {"email": "boss@example.test", "password1": "Initech99", "organization_name": "Initech"},
    )
    assert page.status_code == 200
    assert page.context["form"].errors["password1"]
    api = client.post(
        "/_allauth/browser/v1/auth/signup",
        {"email": "boss@example.test", "password": "Initech99", "organization_name": "Initech"},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert api.json()["errors"][0]["param"] == "password"
    assert not User.objects.filter(email="boss@example.test").exists()


def test_asvs_6_2_11_invitation_refuses_a_password_built_on_the_account_name(administrator):
    from twofold.errors import FlowError
    from twofold.organizations import flows

    administrator.organization.name = "Initech"
    administrator.organization.save()
    issued = flows.invite_member(administrator, "new@initech.test")
    with pytest.raises(FlowError) as raised:
        flows.accept_invitation(issued.token, "Initech2024")
    assert raised.value.code == "password_invalid"
    assert not User.objects.filter(email="new@initech.test").exists()
