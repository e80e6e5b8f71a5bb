"""Actors and helpers shared by the whole suite (STYLE.md rule 11)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client

from twofold.organizations.flows import create_organization
from twofold.organizations.models import Membership, Role
from twofold.users.models import User

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache: allauth's rate limits and guards live there.

    The database cache is rolled back with each test's transaction; Redis is not, so this run's
    keys (a prefix of their own) are deleted after every test.
    """
    yield
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*"))
        if keys:
            client.delete(*keys)


def require_or_skip(reason: str) -> None:
    """Skip a test whose service is absent; fail it when TWOFOLD_REQUIRE_SERVICES=1."""
    if os.environ.get("TWOFOLD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (TWOFOLD_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture
def make_member(db: Any) -> Callable[..., Membership]:
    """Create a verified user in ``organization`` (a new one when omitted) with ``role``."""

    def make(
        email: str,
        *,
        organization: Any = None,
        role: str = Role.MEMBER,
        password: str = PASSWORD,
    ) -> Membership:
        user = User.objects.create_user(email, password)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        if organization is None:
            return create_organization(user, f"{email.split('@')[1]} Inc.")
        return Membership.objects.create(user=user, organization=organization, role=role)

    return make


@pytest.fixture
def administrator(make_member: Callable[..., Membership]) -> Membership:
    return make_member("ada@acme.test")


@pytest.fixture
def member(make_member: Callable[..., Membership], administrator: Membership) -> Membership:
    return make_member("bob@acme.test", organization=administrator.organization)


@pytest.fixture
def other_administrator(make_member: Callable[..., Membership]) -> Membership:
    """The administrator of another account, for isolation tests."""
    return make_member("olga@globex.test")


def signed_in(client: Client, membership: Membership) -> Client:
    client.force_login(membership.user)
    return client


@pytest.fixture
def administrator_client(administrator: Membership) -> Client:
    """A browser of its own, signed in as the administrator."""
    return signed_in(Client(), administrator)


@pytest.fixture
def member_client(member: Membership) -> Client:
    """A browser of its own, signed in as the member."""
    return signed_in(Client(), member)


@pytest.fixture
def outbox() -> list[Any]:
    return mail.outbox
