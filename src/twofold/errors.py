"""Errors raised by flows. Pages show ``message``; the API answers ``status`` and ``code``."""

from __future__ import annotations


class FlowError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class NotAllowed(FlowError):
    status = 403
    code = "forbidden"


class NotFound(FlowError):
    status = 404
    code = "not_found"


class Conflict(FlowError):
    status = 409
    code = "conflict"


class Gone(FlowError):
    status = 410
    code = "gone"
