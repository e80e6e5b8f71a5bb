"""Twofold's session engines (sessions/stores/): Django's database stores without the
``exists()`` pre-check, the read before a delete, or a transaction around one statement."""

from __future__ import annotations

from importlib import import_module
from unittest import mock

import pytest
from django.contrib.sessions.backends import cached_db as django_cached_db
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from twofold.sessions import stores as session_store

ENGINES = ["twofold.sessions.stores.db", "twofold.sessions.stores.cached_db"]
DJANGO_STORES = {
    "twofold.sessions.stores.db": django_db.SessionStore,
    "twofold.sessions.stores.cached_db": django_cached_db.SessionStore,
}


@pytest.fixture(params=ENGINES, ids=["db", "cached_db"])
def engine(request, settings):
    settings.SESSION_ENGINE = request.param
    return request.param


def store(engine: str, session_key: str | None = None):
    return import_module(engine).SessionStore(session_key)


def session_queries(captured: CaptureQueriesContext) -> list[str]:
    """The statements on the session table (a database cache would add its own)."""
    return [q["sql"] for q in captured if '"django_session"' in q["sql"] or "SAVEPOINT" in q["sql"]]


def cached(session_key: str):
    return caches["default"].get(django_cached_db.KEY_PREFIX + session_key)


def test_the_engines_are_djangos_stores(engine):
    assert issubclass(import_module(engine).SessionStore, DJANGO_STORES[engine])


@pytest.mark.django_db(transaction=True)  # autocommit, as in production
def test_a_taken_key_is_drawn_again_and_the_session_it_belongs_to_is_kept(engine):
    first = store(engine)
    first["who"] = "first"
    first.create()
    taken = first.session_key
    fresh = "f" * 32
    second = store(engine)
    second["who"] = "second"
    with mock.patch.object(session_store, "get_random_string", side_effect=[taken, fresh]):
        second.create()
    assert second.session_key == fresh
    assert store(engine, taken).load() == {"who": "first"}
    assert store(engine, fresh).load() == {"who": "second"}
    assert Session.objects.count() == 2


def test_a_taken_key_is_drawn_again_inside_a_transaction(engine, db):
    """The savepoint keeps the outer transaction usable after the refused INSERT."""
    first = store(engine)
    first.create()
    second = store(engine)
    with mock.patch.object(
        session_store, "get_random_string", side_effect=[first.session_key, "g" * 32]
    ):
        second.create()
    assert second.session_key == "g" * 32
    assert Session.objects.filter(session_key__in=[first.session_key, "g" * 32]).count() == 2


def test_asvs_7_2_4_cycle_key_gives_a_new_id_and_ends_the_old_one(engine, db):
    session = store(engine)
    session["user"] = "bob"
    session.create()
    old = session.session_key
    with CaptureQueriesContext(connection) as captured:
        session.cycle_key()
    assert session.session_key != old
    assert not Session.objects.filter(session_key=old).exists()
    assert store(engine, session.session_key).load() == {"user": "bob"}
    if engine.endswith("cached_db"):
        assert cached(old) is None
        assert cached(session.session_key) == {"user": "bob"}
    sql = [s.split()[0] for s in session_queries(captured)]
    # No pre-check of the new key, no read of the old session before deleting it.
    assert sql == ["SAVEPOINT", "INSERT", "RELEASE", "DELETE"]


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_save_is_one_statement(engine):
    session = store(engine)
    with CaptureQueriesContext(connection) as captured:
        session.create()
        session["seen"] = 1
        session.save()
    assert [s.split()[0] for s in session_queries(captured)] == ["INSERT", "UPDATE"]


@pytest.mark.django_db(transaction=True)
def test_saving_a_session_ended_meanwhile_is_refused(engine):
    session = store(engine)
    session.create()
    Session.objects.filter(session_key=session.session_key).delete()
    session["seen"] = 1
    with pytest.raises(UpdateError):  # SessionMiddleware answers SessionInterrupted
        session.save()
    assert not Session.objects.exists()


def test_sessions_read_each_other_with_djangos_stores(engine, db):
    ours = store(engine)
    ours["user"] = "bob"
    ours.create()
    assert DJANGO_STORES[engine](ours.session_key).load() == {"user": "bob"}
    theirs = DJANGO_STORES[engine]()
    theirs["user"] = "carol"
    theirs.create()
    assert store(engine, theirs.session_key).load() == {"user": "carol"}


def test_deleting_a_session_already_gone_does_nothing(engine, db):
    session = store(engine)
    session.delete("h" * 32)
    session.delete()  # no key yet
    assert not Session.objects.exists()
