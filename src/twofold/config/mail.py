"""The ``file`` email backend: one ``.eml`` file per message, named so that a person can sort and
open them: ``2026-12-04T19-30-05_to-ada@example.com_Your-sign-in-code.eml``.

Guarantees: a file under the mail directory is always a whole message (written under a hidden
name, then renamed: readers never see half of one); two messages never share a file (a name
taken gets ``-2``, ``-3``, ...); the time is UTC. The file is readable by its owner only: it may
hold sign-in codes and invitation links.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.mail.message import EmailMessage

from twofold import clock

# Letters, digits and a few safe marks; everything else (spaces, slashes, brackets) becomes "-".
_UNSAFE = re.compile(r"[^\w@.+-]+")
_PART_LENGTH = 60


def _part(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-.")[:_PART_LENGTH].rstrip("-.") or "none"


def file_name(message: EmailMessage) -> str:
    """The name of the message's file, without the suffix ``.eml``."""
    sent = clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%S")
    to = _part(",".join(message.to) if message.to else "nobody")
    return f"{sent}_to-{to}_{_part(str(message.subject))}"


class EmailBackend(FileEmailBackend):
    """Django's file backend, one readable ``.eml`` per message instead of a ``.log`` per
    connection."""

    def open(self) -> bool:
        return False  # no stream to open: each message opens its own file

    def close(self) -> None:
        pass

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if message.recipients():
                self._write(message)
                sent += 1
        return sent

    def _write(self, message: EmailMessage) -> Path:
        directory = Path(self.file_path)  # type: ignore[attr-defined]  # set by Django's __init__
        stem = file_name(message)
        hidden = directory / f".{stem}.{os.getpid()}.{id(message)}.tmp"
        # 0600: the message may sign someone in (a code, an invitation link).
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(message.message().as_bytes(linesep="\n"))
        for n in range(1, 1000):
            target = directory / (f"{stem}.eml" if n == 1 else f"{stem}-{n}.eml")
            try:
                # A hard link fails if the name is taken, where a rename would replace it.
                os.link(hidden, target)
            except FileExistsError:
                continue
            os.unlink(hidden)
            return target
        raise FileExistsError(f"no free name for {stem}.eml in {directory}")
