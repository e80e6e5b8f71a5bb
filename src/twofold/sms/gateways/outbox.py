"""The embedded default gateway: each text becomes one JSON line in a file (DESIGN.md, "Operator
contract"): ``{"to": "+41...", "body": "...", "sent_at": "<ISO 8601 UTC>"}``.

Guarantees: every line is whole and valid JSON even with many gunicorn workers appending at
once (an exclusive ``flock`` around one ``O_APPEND`` write); the file is created readable by its
owner only, as it holds live sign-in codes. Nothing leaves the machine.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from datetime import UTC
from pathlib import Path

from twofold import clock
from twofold.config.sms import SmsSettings
from twofold.sms.numbers import mask

logger = logging.getLogger("twofold.sms")


class OutboxGateway:
    name = "outbox"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, to: str, body: str) -> str:
        sent_at = clock.now().astimezone(UTC).isoformat(timespec="milliseconds")
        record = {"to": to, "body": body, "sent_at": sent_at.replace("+00:00", "Z")}
        append_line(self.path, json.dumps(record, ensure_ascii=False))
        # Where to read it, not the text: codes never reach a log (the file is 0600, logs are not).
        logger.info("SMS to %s written to %s", mask(to), self.path)
        return str(uuid.uuid4())


def append_line(path: Path, line: str) -> None:
    data = (line + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # 0600: the file holds codes that sign people in.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # Workers are processes: only a file lock keeps their lines from interleaving.
        fcntl.flock(fd, fcntl.LOCK_EX)
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)  # also releases the lock


def from_settings(sms: SmsSettings) -> OutboxGateway:
    return OutboxGateway(sms.outbox)
