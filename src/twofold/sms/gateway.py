"""The SMS gateway port: one method, ``send(to, body) -> message id`` (STYLE.md rule 6).

A gateway either returns the provider's message id (the provider accepted the text) or raises
:class:`SmsError`. ``retryable`` tells :mod:`twofold.sms.delivery` whether another provider may
succeed where this one failed (outage, timeout, credentials at this provider) or whether trying
elsewhere is pointless. :class:`InvalidRecipient` means the number itself cannot receive texts.
"""

from __future__ import annotations

from typing import Protocol


class SmsError(Exception):
    """A provider refused or failed to take the text. The message never holds the full number."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class InvalidRecipient(SmsError):
    """The provider says this number cannot receive text messages; no other provider will help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class SmsGateway(Protocol):
    name: str

    def send(self, to: str, body: str) -> str:
        """Hand one text for ``to`` (E.164) to the provider; return its message id."""
        ...
