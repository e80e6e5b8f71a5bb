"""Errors raised by flows. Pages show ``message``; the API answers ``status`` and ``code``."""

from __future__ import annotations

from django.utils.functional import Promise

StrOrPromise = str | Promise


class FlowError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self, message: StrOrPromise, *, code: str | None = None, param: str | None = None
    ) -> None:
        message = str(message)  # a lazy translation, in the language of this request
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class ReauthenticationRequired(FlowError):
    """Confirm who you are first (``sessions/freshness.py``): with any factor, or, with
    ``second_factor``, with a second factor (aal2). Pages lead to the matching re-authentication
    page; the API names the endpoint."""

    status = 401
    code = "reauthentication_required"

    def __init__(self, message: StrOrPromise, *, second_factor: bool = False) -> None:
        super().__init__(message)
        self.second_factor = second_factor


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


class TooManyRequests(FlowError):
    """A limit was reached; ``retry_after`` says in how many seconds trying again can work."""

    status = 429
    code = "too_many_requests"

    def __init__(
        self,
        message: StrOrPromise,
        *,
        retry_after: int,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message, code=code, param=param)
        self.retry_after = max(1, int(retry_after))


class Unavailable(FlowError):
    """A service Twofold depends on (an SMS provider, say) cannot be reached; retry later."""

    status = 503
    code = "unavailable"
