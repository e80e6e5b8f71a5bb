"""A development gateway: prints each text on standard output. Never for production: anyone
who reads the server's output reads the codes."""

from __future__ import annotations

import sys
import uuid

from twofold.config.sms import SmsSettings
from twofold.sms.numbers import formatted


class ConsoleGateway:
    name = "console"

    def send(self, to: str, body: str) -> str:
        message_id = str(uuid.uuid4())
        text = f"--- SMS to {formatted(to)} ({message_id})\n{body}\n---"
        print(text, file=sys.stdout, flush=True)
        return message_id


def from_settings(sms: SmsSettings) -> ConsoleGateway:
    return ConsoleGateway()
