"""An authenticator app's code is accepted once, whatever happens to the cache (RFC 6238 section
5.2: "the verifier MUST NOT accept the second attempt of the same OTP after the successful
validation has been issued"; ASVS 6.5.1). The last used time step is kept with the factor in the
database (``factors/totp/codes.py``), so flushing or replacing Redis, or the database cache,
does not reopen a code already used."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache

from tests.concurrency import at_once
from tests.conftest import give_totp_factor
from twofold import clock
from twofold.errors import FlowError
from twofold.factors.totp import codes, flows
from twofold.users.models import User


def flush_cache() -> None:
    """Every cache entry gone, as after a Redis restart or failover: only this run's keys on
    Redis (the server is shared), the whole table of the database cache."""
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


def refused(user: User, code: str, now) -> bool:
    """The app's code is refused as wrong or already used (``code_invalid``)."""
    try:
        flows.verify(user, code, now=now)
    except FlowError as error:
        return error.code == "code_invalid"
    return False


def test_rfc_6238_5_2_a_code_accepted_before_the_cache_is_flushed_is_refused_after(
    member_with_totp,
):
    user, now = member_with_totp.user, clock.now()
    code = codes.code_at(member_with_totp.totp_secret, now)
    flows.verify(user, code, now=now)
    flush_cache()
    assert refused(user, code, now)


def test_rfc_6238_5_2_an_older_code_is_refused_after_a_newer_one_and_a_cache_flush(
    member_with_totp,
):
    user, now = member_with_totp.user, clock.now()
    flows.verify(user, codes.code_at(member_with_totp.totp_secret, now), now=now)
    flush_cache()
    older = codes.code_at(member_with_totp.totp_secret, now - timedelta(seconds=30))
    assert refused(user, older, now)  # inside the drift window, but older than the one used
    newer = codes.code_at(member_with_totp.totp_secret, now + timedelta(seconds=30))
    assert not refused(user, newer, now + timedelta(seconds=30))


def test_rfc_6238_5_2_the_code_that_set_the_app_up_is_refused_at_sign_in_after_a_cache_flush(
    member,
):
    user, session, now = member.user, SessionStore(), clock.now()
    setup = flows.start(user, session)
    code = codes.code_at(setup.secret, now)
    assert flows.confirm(user, session, code, now=now) is False
    flows.show_backup_codes(user, session)
    flows.activate(user, session, saved_backup_codes=True)
    flush_cache()
    assert refused(user, code, now)


def test_rfc_6238_5_2_the_code_that_added_the_app_beside_another_factor_is_spent(
    member_with_sms,
):
    user, session, now = member_with_sms.user, SessionStore(), clock.now()
    setup = flows.start(user, session)
    code = codes.code_at(setup.secret, now)
    assert flows.confirm(user, session, code, now=now) is True
    flush_cache()
    assert refused(user, code, now)


def test_rfc_6238_5_2_a_new_app_after_the_old_one_was_removed_starts_afresh(member_with_sms):
    user, now = member_with_sms.user, clock.now()
    old_secret = give_totp_factor(member_with_sms)
    flows.verify(user, codes.code_at(old_secret, now), now=now)
    flows.remove(user)  # its last used step goes with it
    session = SessionStore()
    setup = flows.start(user, session)
    later = now + timedelta(seconds=30)
    assert flows.confirm(user, session, codes.code_at(setup.secret, now), now=now) is True
    assert not refused(user, codes.code_at(setup.secret, later), later)


@pytest.mark.django_db(transaction=True)
def test_rfc_6238_5_2_a_code_posted_by_20_workers_at_once_after_a_flush_is_accepted_once(
    member_with_totp,
):
    now = clock.now()
    flows.verify(member_with_totp.user, codes.code_at(member_with_totp.totp_secret, now), now=now)
    flush_cache()
    later = now + timedelta(seconds=30)
    code = codes.code_at(member_with_totp.totp_secret, later)
    outcomes = at_once(
        lambda: flows.verify(User.objects.get(pk=member_with_totp.user_id), code, now=later)
    )
    accepted = [o for o in outcomes if o is None]
    assert len(accepted) == 1, outcomes
    assert all(isinstance(o, FlowError) and o.code == "code_invalid" for o in outcomes if o)


def test_rfc_6238_5_2_apps_set_up_before_the_upgrade_refuse_the_current_code_after_it(
    member_with_totp,
):
    """The migration records the current step for every app: a code accepted just before the
    upgrade, when its mark lived in the cache only, is not accepted again after it."""
    now = clock.now()  # before the migration's step (which may be the next one, not after)
    migration = importlib.import_module("twofold.factors.migrations.0003_totp_last_step")
    migration.start_at_the_current_step(django_apps, None)
    assert refused(member_with_totp.user, codes.code_at(member_with_totp.totp_secret, now), now)
    later = now + timedelta(seconds=60)  # past the migration's step, even at a step's edge
    code = codes.code_at(member_with_totp.totp_secret, later)
    assert not refused(member_with_totp.user, code, later)
