"""Files only Twofold's own user may read (keys, backups), written so that a crash leaves the old
file or the whole new one, never a part: mode 0600 from the start, flushed to disk, and renamed
into place with the directory synced."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_new(path: Path, content: bytes) -> None:
    """Create ``path``, which must not exist yet, with ``content``."""
    _create(path, lambda file: file.write(content))


def copy_new(source: Path, path: Path) -> None:
    """Create ``path``, which must not exist yet, as a copy of ``source``."""
    with source.open("rb") as original:
        _create(path, lambda file: shutil.copyfileobj(original, file))


def written_beside(path: Path, content: bytes) -> Path:
    """A new temporary file with ``content`` in ``path``'s directory, ready to be renamed or
    linked to ``path``; nothing is left behind if writing fails."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        write_new(temporary, content)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def replace(path: Path, content: bytes) -> None:
    """Put ``content`` at ``path`` in one rename, which survives a crash."""
    os.replace(written_beside(path, content), path)
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    """Flush a directory's entries (a rename, a new file) to disk."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _create(path: Path, fill: Callable[[BinaryIO], object]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        fill(file)
        file.flush()
        os.fsync(file.fileno())
