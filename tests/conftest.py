"""Actors and helpers shared by the whole suite (STYLE.md rule 11)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.cache import cache, caches
from django.test import Client

from twofold.organizations.flows import create_organization
from twofold.organizations.models import Membership, Role
from twofold.users.models import User

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_random_cull(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database cache also deletes expired entries on about one write in 256: a query at
    random, which would make query counts flaky. tests/config/test_cache.py sets its own."""
    monkeypatch.setattr("twofold.config.cache.CULL_EVERY", 10**9)


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest, django_db_blocker: Any) -> Iterator[None]:
    """Each test starts with an empty cache: allauth's rate limits and guards live there.

    The database cache is rolled back with each test's transaction; Redis is not, so this run's
    keys (a prefix of their own) are deleted after every test. Nor is the database cache after a
    transactional test: Django's flush empties the models' tables only, and allauth's per-address
    counts (30 sign-ins a minute from 127.0.0.1) carried over into the next race test.
    """
    yield
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*"))
        if keys:
            client.delete(*keys)
    if _transactional(request):
        with django_db_blocker.unblock():
            caches["database"].clear()


def _transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


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


def freshly_signed_in(
    client: Client, membership: Membership, *, second_factor: str | None = None
) -> Client:
    """Signed in with the password just now, as the sign-in form records it: changes that
    need a recent authentication (ASVS 7.5.1) go through without a re-authentication. With
    ``second_factor`` ("sms", "totp"...), that factor was used just now too (aal2)."""
    signed_in(client, membership)
    session = client.session
    records: list[dict[str, Any]] = [{"method": "password", "at": time.time()}]
    if second_factor:
        records.append({"method": "mfa", "type": second_factor, "at": time.time()})
    session["account_authentication_methods"] = records
    session["account_authentication_methods_user"] = str(membership.user.pk)
    session.save()
    return client


def age_authentication(client: Client, seconds: float | None = None) -> Client:
    """Move every authentication recorded in this session ``seconds`` into the past (by default
    just beyond ``ACCOUNT_REAUTHENTICATION_TIMEOUT``): a stale session, whose changes that need
    a recent authentication (ASVS 7.5.1) are refused until the member re-authenticates."""
    if seconds is None:
        seconds = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= seconds
    session["account_authentication_methods"] = records
    session.save()
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


class SmsOutbox:
    """The texts the embedded ``outbox`` gateway wrote (one JSON line each)."""

    def __init__(self, path: Any) -> None:
        self.path = path
        self.start = path.stat().st_size if path.exists() else 0

    def messages(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        with self.path.open() as f:
            f.seek(self.start)
            return [json.loads(line) for line in f if line.strip()]

    def last_code(self, to: str | None = None) -> str:
        texts = [m for m in self.messages() if to is None or m["to"] == to]
        assert texts, "no text message was sent"
        return texts[-1]["body"].rsplit("#", 1)[1].strip()


@pytest.fixture
def sms_outbox() -> SmsOutbox:
    return SmsOutbox(Path(settings.TWOFOLD.data_dir) / "sms-outbox.jsonl")


MOBILE = "+41791234567"


@pytest.fixture
def member_with_sms(member: Membership) -> Membership:
    """A member whose SMS two-factor authentication is on, with 10 backup codes."""
    from twofold import clock
    from twofold.factors.backup_codes import flows as backup_codes
    from twofold.factors.sms.models import SmsFactor

    SmsFactor.objects.create(user=member.user, phone=MOBILE, enabled_at=clock.now())
    member.backup_codes = backup_codes.create_pending(member.user)  # type: ignore[attr-defined]
    backup_codes.activate_pending(member.user)
    return member


def give_sms_factor(membership: Membership, phone: str = MOBILE) -> Membership:
    """Turn SMS 2FA on for ``membership`` as a finished enrollment would, with 10 backup codes."""
    from twofold import clock
    from twofold.factors.backup_codes import flows as backup_codes
    from twofold.factors.sms.models import SmsFactor

    SmsFactor.objects.create(user=membership.user, phone=phone, enabled_at=clock.now())
    backup_codes.create_pending(membership.user)
    backup_codes.activate_pending(membership.user)
    return membership


def give_totp_factor(membership: Membership) -> str:
    """Add an authenticator app for ``membership`` as a finished set-up would (with backup codes
    when the member had none); return its secret, to compute codes as the app does."""
    from allauth.mfa.models import Authenticator

    from twofold.factors.backup_codes import flows as backup_codes
    from twofold.factors.totp import codes, crypto

    secret = codes.generate_totp_secret()
    user = membership.user
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": crypto.encrypt(secret)}
    )
    if not backup_codes.remaining(user):
        backup_codes.create_pending(user)
        backup_codes.activate_pending(user)
    return secret


@pytest.fixture
def member_with_totp(member: Membership) -> Membership:
    """A member whose only second factor is an authenticator app (``member.totp_secret``)."""
    member.totp_secret = give_totp_factor(member)  # type: ignore[attr-defined]
    return member


@pytest.fixture
def administrator_with_sms(administrator: Membership) -> Membership:
    return give_sms_factor(administrator, "+41791110000")


def require_two_factor(organization: Any, *, grace_days: int = 0, since: Any = None) -> Any:
    """The account requires 2FA since ``since`` (now), with ``grace_days`` to postpone."""
    from twofold import clock

    organization.require_two_factor = True
    organization.two_factor_grace_days = grace_days
    organization.two_factor_required_since = since or clock.now()
    organization.save()
    return organization


@pytest.fixture
def account_requiring_2fa(administrator: Membership) -> Any:
    """The administrator's account (that of ``member`` too) requires 2FA, without grace."""
    return require_two_factor(administrator.organization)
