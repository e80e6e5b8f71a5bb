"""Twofold's logs: text lines (the default) or one JSON object per line
(``TWOFOLD_LOG_FORMAT=json``, python-json-logger), each record of a request carrying its id.

Guarantees: each record that reaches the console handler has ``request_id`` (``-`` outside a
request); the libraries that write codes or tokens in their debug lines stay at WARNING whatever
``TWOFOLD_LOG_LEVEL`` says; the request object Django passes with its own records is never
serialized (its repr holds the query string, where codes travel).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS

if TYPE_CHECKING:  # read by the settings module: nothing of Django's request machinery yet
    from django.http import HttpRequest

LogFormat = Literal["text", "json"]
NO_REQUEST = "-"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# Their debug lines carry secrets: oauthlib and django-oauth-toolkit print grants (codes) and
# redirect addresses with codes; Django's SQL log prints parameters (session keys, token hashes).
QUIET_LIBRARIES = ("oauthlib", "oauth2_provider", "django.db.backends")
# Django's own records carry the request (its repr names the full path, query string included).
_NOT_SERIALIZED = ("request",)
# The early answers' attribute (api/session_check.py): who asked, when they know it.
_MEMBER = "twofold_log_member"

_request_id: ContextVar[str] = ContextVar("twofold_request_id", default=NO_REQUEST)


def current_request_id() -> str:
    return _request_id.get()


def bind_request_id(request_id: str) -> Token[str]:
    """Every record until :func:`unbind_request_id` carries ``request_id``."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str]) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """On the handler, so that records of every logger (Django's, the libraries') get the id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def note_member(request: HttpRequest, user_id: int, account_id: int) -> None:
    """For a middleware that answers before authentication: the access log names the member."""
    request.__dict__[_MEMBER] = (user_id, account_id)


def noted_member(request: HttpRequest) -> tuple[int, int | None] | None:
    noted: tuple[int, int | None] | None = request.__dict__.get(_MEMBER)
    return noted


def config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """Django's ``LOGGING``: Twofold's loggers at ``level``, the rest at WARNING, to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "text": {"format": TEXT_FORMAT},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",
                "reserved_attrs": [*RESERVED_ATTRS, *_NOT_SERIALIZED],
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "twofold": {"level": level, "propagate": True},
            **{name: {"level": "WARNING"} for name in QUIET_LIBRARIES},
        },
    }
