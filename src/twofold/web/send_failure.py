"""A text that could not be sent, told once on the page that offers its code.

A failed resend redirects back to its code page; the page then says why the text did not go
and, instead of "We sent a text message", whether an earlier code still works
(``twofold/_code_sent.html``). The reason is kept in the session for that one page, not as a
message, so it is shown once and the page's own wording agrees with it.
"""

from __future__ import annotations

from django.http import HttpRequest

from twofold.errors import FlowError

_KEY = "twofold.send_failure"


def remember(request: HttpRequest, error: FlowError) -> None:
    request.session[_KEY] = error.message


def take(request: HttpRequest) -> str | None:
    """The reason of the failed send, once; None when the last send did not fail."""
    reason = request.session.pop(_KEY, None)
    return reason if isinstance(reason, str) else None
