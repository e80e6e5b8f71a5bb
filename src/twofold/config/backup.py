"""The embedded default's backup: a consistent copy of the SQLite database and the data
directory's keys, and the way back (docs/operations.md, "Backups").

Guarantees:
- the copy is one snapshot, taken by SQLite's online backup API while Twofold keeps writing (a
  plain file copy would miss what is still in the WAL file, or tear a page), and passes
  ``PRAGMA integrity_check`` before the backup counts as made;
- a backup is a directory of its own, mode 0700, its files 0600 (the keys decrypt every
  authenticator-app secret), with ``manifest.json``: when, which Twofold, which migrations, and
  each file's SHA-256;
- a restore checks every file against the manifest and the database's integrity before it
  touches anything, never replaces a database unless told to (``force``), and renames each file
  over the old one whole: a crash leaves the old file or the new, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from twofold.config import private_files, signing_keys

MANIFEST = "manifest.json"
DATABASE = "twofold.sqlite3"
# Everything of the data directory that cannot be made again (docs/operations.md, "Data
# directory"): mail, the SMS outbox, hash slots and locks can.
KEY_FILES = ("secret_key", "factor_key", signing_keys.SIGNING, signing_keys.RETIRED)
FORMAT = 1


class BackupError(Exception):
    """A backup or restore refused; the message is one line for the operator."""


@dataclass(frozen=True)
class Manifest:
    created_at: str  # ISO 8601, UTC
    twofold_version: str
    migrations: tuple[str, ...]  # applied in the copy, ``app.name``, in order
    files: dict[str, str]  # name in the backup -> SHA-256

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(name for name in KEY_FILES if name in self.files)


def backup(
    database: Path, data_dir: Path, target: Path, *, now: datetime, version: str
) -> Manifest:
    """Copy ``database`` and the key files of ``data_dir`` into the new directory ``target``."""
    if not database.is_file():
        raise BackupError(f"There is no database at {database}: nothing to back up.")
    _new_directory(target)
    _copy_database(database, target / DATABASE)
    _require_intact(target / DATABASE)
    for name in KEY_FILES:
        if (data_dir / name).is_file():
            private_files.copy_new(data_dir / name, target / name)
    files = {p.name: _sha256(p) for p in sorted(target.iterdir())}
    manifest = Manifest(now.isoformat(), version, _applied_migrations(target / DATABASE), files)
    private_files.write_new(target / MANIFEST, _manifest_json(manifest).encode())
    return manifest


def restore(source: Path, database: Path, data_dir: Path, *, force: bool) -> Manifest:
    """Put the backup ``source`` back: its database at ``database``, its keys in ``data_dir``."""
    manifest = read_manifest(source)
    for name, digest in manifest.files.items():
        if _sha256(source / name) != digest:
            raise BackupError(f"{source / name} is not the file the backup made: it changed.")
    _require_intact(source / DATABASE)
    if database.exists() and not force:
        raise BackupError(
            f"A database exists at {database}: stop every Twofold process, then restore with "
            "--force to replace it (it is kept beside as a .before-restore copy)."
        )
    _replace_database(source / DATABASE, database)
    for name in manifest.keys:
        _replace_file(source / name, data_dir / name)
    return manifest


def read_manifest(source: Path) -> Manifest:
    try:
        raw = json.loads((source / MANIFEST).read_text())
        manifest = Manifest(
            raw["created_at"],
            raw["twofold_version"],
            tuple(raw["migrations"]),
            dict(raw["files"]),
        )
    except FileNotFoundError:
        raise BackupError(f"{source} is not a Twofold backup: it has no {MANIFEST}.") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise BackupError(f"{source / MANIFEST} cannot be read as a Twofold manifest.") from None
    missing = [name for name in manifest.files if not (source / name).is_file()]
    if DATABASE not in manifest.files or missing:
        raise BackupError(f"{source} is incomplete: {', '.join(missing) or DATABASE} missing.")
    if any(Path(name).name != name for name in manifest.files):  # never write outside data_dir
        raise BackupError(f"{source / MANIFEST} names files outside the backup.")
    return manifest


def _new_directory(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} exists and is not a directory: name a new directory.")
    if target.is_dir() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: name a new or empty directory.")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)  # mkdir's mode passes through the umask


def _copy_database(database: Path, copy: Path) -> None:
    private_files.write_new(copy, b"")  # SQLite would create it readable by everyone (umask)
    live, target = sqlite3.connect(database, timeout=20), sqlite3.connect(copy)
    with closing(live), closing(target):
        # One step (pages=-1): a single read transaction, so one snapshot however much Twofold
        # writes meanwhile; WAL lets those writes go on beside it.
        live.backup(target)
        # A file of its own: no -wal beside it to keep with it.
        target.execute("PRAGMA journal_mode=DELETE")


def _require_intact(path: Path) -> None:
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            result = [row[0] for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a usable SQLite database ({error}).") from None
    if result != ["ok"]:
        raise BackupError(f"{path} fails SQLite's integrity check: {result[0]}")


def _applied_migrations(path: Path) -> tuple[str, ...]:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        try:
            rows = db.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # never migrated
            return ()
    return tuple(f"{app}.{name}" for app, name in rows)


def _replace_database(copy: Path, database: Path) -> None:
    """The old database's WAL is merged into it first (or, when it is damaged, dropped): a WAL
    left beside the new file would be replayed into it."""
    database.parent.mkdir(parents=True, exist_ok=True)
    staged = database.with_name(f".{database.name}.restoring")
    staged.unlink(missing_ok=True)
    private_files.copy_new(copy, staged)
    if database.exists():
        _checkpoint(database)
        kept = database.with_name(f"{database.name}.before-restore")
        kept.unlink(missing_ok=True)
        os.link(database, kept)
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    os.replace(staged, database)
    private_files.sync_directory(database.parent)


def _checkpoint(database: Path) -> None:
    try:
        with closing(sqlite3.connect(database, timeout=5)) as db:
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.DatabaseError:
        return  # damaged: replaced as it is (--force), its copy kept beside
    if busy:
        raise BackupError(f"{database} is in use: stop every Twofold process first.")


def _replace_file(source: Path, target: Path) -> None:
    staged = target.with_name(f".{target.name}.restoring")
    staged.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    private_files.copy_new(source, staged)
    os.replace(staged, target)


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _manifest_json(manifest: Manifest) -> str:
    body = {
        "format": FORMAT,
        "created_at": manifest.created_at,
        "twofold_version": manifest.twofold_version,
        "migrations": list(manifest.migrations),
        "files": manifest.files,
    }
    return json.dumps(body, indent=2) + "\n"
