"""The embedded default's backup (config/backup.py): one snapshot under write load, private
files, a manifest, and a restore that checks before it replaces."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import close_old_connections, connection

from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.audit.record import record
from twofold.config import backup as backups
from twofold.config.backup import BackupError

NOW = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)
TABLE = AuditEvent._meta.db_table

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="twofold backup is for the embedded SQLite database"
)


def count_in(database: Path) -> int:
    with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)) as db:
        return int(db.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])


def make_database(path: Path, rows: int = 3) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app, name)")
        db.execute("INSERT INTO django_migrations (app, name) VALUES ('audit', '0001_initial')")
        db.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, event)")
        db.executemany(f"INSERT INTO {TABLE} (event) VALUES (?)", [("x",)] * rows)
        db.commit()
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    make_database(directory / "twofold.sqlite3")
    (directory / "secret_key").write_text("s" * 60)
    (directory / "factor_key").write_text("f" * 44)
    (directory / "oidc_private_key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    return directory


def take(data_dir: Path, target: Path) -> backups.Manifest:
    return backups.backup(data_dir / "twofold.sqlite3", data_dir, target, now=NOW, version="0.1.0")


@pytest.mark.django_db(transaction=True)
def test_a_backup_under_write_load_is_one_intact_snapshot(tmp_path, settings):
    """Audit events are written through the real code the whole time the backup runs."""
    database = Path(settings.DATABASES["default"]["NAME"])
    started, stop = threading.Event(), threading.Event()

    def write() -> None:
        try:
            while not stop.is_set():
                record(Event.SIGN_IN_FAILED, detail={"reason": "backup test"})
                if AuditEvent.objects.count() >= 20:
                    started.set()
        finally:
            close_old_connections()
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert started.wait(60)
        before = AuditEvent.objects.count()
        take_at = tmp_path / "backup"
        backups.backup(database, tmp_path, take_at, now=NOW, version="0.1.0")
        after = AuditEvent.objects.count()
    finally:
        stop.set()
        writer.join()
    copy = take_at / "twofold.sqlite3"
    with closing(sqlite3.connect(copy)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert before <= count_in(copy) <= after
    assert not (take_at / "twofold.sqlite3-wal").exists()  # a file of its own


def test_a_backup_is_private_with_a_manifest_of_its_files(data_dir, tmp_path):
    target = tmp_path / "backups" / "monday"
    made = take(data_dir, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    names = sorted(p.name for p in target.iterdir())
    assert names == [
        "factor_key",
        "manifest.json",
        "oidc_private_key.pem",
        "secret_key",
        "twofold.sqlite3",
    ]
    assert {stat.S_IMODE((target / n).stat().st_mode) for n in names} == {0o600}
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["created_at"] == "2026-12-04T19:00:00+00:00"
    assert manifest["twofold_version"] == "0.1.0"
    assert manifest["migrations"] == ["audit.0001_initial"]
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert made.keys == ("secret_key", "factor_key", "oidc_private_key.pem")


@pytest.mark.parametrize("occupied", ["a file", "a non-empty directory"])
def test_a_backup_refuses_a_path_in_use(data_dir, tmp_path, occupied):
    target = tmp_path / "target"
    if occupied == "a file":
        target.write_text("mine")
    else:
        target.mkdir()
        (target / "mine").write_text("mine")
    with pytest.raises(BackupError, match="name a new"):
        take(data_dir, target)
    assert not (target / "twofold.sqlite3").exists()


def test_an_empty_directory_is_taken(data_dir, tmp_path):
    (tmp_path / "empty").mkdir(mode=0o755)
    take(data_dir, tmp_path / "empty")
    assert stat.S_IMODE((tmp_path / "empty").stat().st_mode) == 0o700


def test_a_backup_without_a_database_says_so(tmp_path):
    with pytest.raises(BackupError, match="There is no database at"):
        take(tmp_path, tmp_path / "backup")
    assert not (tmp_path / "backup").exists()


def test_a_restore_into_a_fresh_data_directory_brings_back_database_and_keys(data_dir, tmp_path):
    take(data_dir, tmp_path / "backup")
    fresh = tmp_path / "fresh"
    done = backups.restore(tmp_path / "backup", fresh / "twofold.sqlite3", fresh, force=False)
    assert count_in(fresh / "twofold.sqlite3") == 3
    assert (fresh / "secret_key").read_text() == "s" * 60
    assert stat.S_IMODE((fresh / "factor_key").stat().st_mode) == 0o600
    assert done.created_at == "2026-12-04T19:00:00+00:00"
    assert sorted(p.name for p in fresh.iterdir() if p.name.startswith(".")) == []  # no leftovers


def test_a_restore_never_replaces_a_database_unless_forced(data_dir, tmp_path):
    take(data_dir, tmp_path / "backup")
    target = tmp_path / "live"
    target.mkdir()
    make_database(target / "twofold.sqlite3", rows=7)
    with pytest.raises(BackupError, match="--force"):
        backups.restore(tmp_path / "backup", target / "twofold.sqlite3", target, force=False)
    assert count_in(target / "twofold.sqlite3") == 7
    backups.restore(tmp_path / "backup", target / "twofold.sqlite3", target, force=True)
    assert count_in(target / "twofold.sqlite3") == 3
    assert count_in(target / "twofold.sqlite3.before-restore") == 7  # kept, the way back
    assert not (target / "twofold.sqlite3-wal").exists()


def test_a_changed_backup_is_refused_before_anything_is_replaced(data_dir, tmp_path):
    take(data_dir, tmp_path / "backup")
    (tmp_path / "backup" / "factor_key").write_text("g" * 44)
    fresh = tmp_path / "fresh"
    with pytest.raises(BackupError, match="factor_key is not the file the backup made"):
        backups.restore(tmp_path / "backup", fresh / "twofold.sqlite3", fresh, force=True)
    assert not fresh.exists()


def test_a_damaged_database_fails_the_integrity_check(data_dir, tmp_path):
    """The manifest is rewritten to match, as a backup damaged before its manifest would be."""
    take(data_dir, tmp_path / "backup")
    copy = tmp_path / "backup" / "twofold.sqlite3"
    content = bytearray(copy.read_bytes())
    content[len(content) // 2 :] = b"\x00" * (len(content) - len(content) // 2)
    content[4096 + 8 : 4096 + 12] = b"\xff\xff\xff\xff"  # a page header no b-tree has
    copy.write_bytes(bytes(content))
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    manifest["files"]["twofold.sqlite3"] = backups._sha256(copy)
    (tmp_path / "backup" / "manifest.json").write_text(json.dumps(manifest))
    fresh = tmp_path / "fresh"
    with pytest.raises(BackupError, match=r"integrity check|not a usable SQLite database"):
        backups.restore(tmp_path / "backup", fresh / "twofold.sqlite3", fresh, force=False)
    assert not (fresh / "twofold.sqlite3").exists()


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (None, "is not a Twofold backup: it has no manifest.json"),
        ("not json", "cannot be read as a Twofold manifest"),
        (
            {"created_at": "", "twofold_version": "", "migrations": [], "files": {"../x": ""}},
            "is incomplete",
        ),
    ],
)
def test_a_directory_that_is_no_backup_is_refused(tmp_path, manifest, message):
    source = tmp_path / "backup"
    source.mkdir()
    if manifest is not None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        (source / "manifest.json").write_text(text)
    with pytest.raises(BackupError, match=message):
        backups.restore(source, tmp_path / "db.sqlite3", tmp_path, force=True)
