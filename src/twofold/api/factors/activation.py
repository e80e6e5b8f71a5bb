"""The last steps of a first factor set up in the session (authenticator app, security key) in
the JSON API: its backup codes, the activation, abandoning it. One shape for both factors, over
their flows (``factors/activation.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call
from twofold.api.factors.shared import factors_changed, status
from twofold.factors.activation import SessionSetup
from twofold.factors.forms import ActivateForm

Extra = Callable[[Call], dict[str, Any]]


def _nothing(call: Call) -> dict[str, Any]:
    return {}


def backup_codes(call: Call, flows: SessionSetup) -> HttpResponse:
    """The set-up's backup codes: the same set at every call until activation."""
    call.require_fresh_to_bind()  # shows the codes that will replace any others: as the start
    return responses.ok({"codes": flows.show_backup_codes(call.user, call.session)})


def activate(call: Call, flows: SessionSetup, extra: Extra = _nothing) -> HttpResponse:
    """``{saved_backup_codes: true}``: the last step of a first factor; only now is 2FA on."""
    call.require_fresh_to_bind()  # binds the factor and activates its codes: as the start
    data = call.validated(ActivateForm)
    flows.activate(call.user, call.session, saved_backup_codes=data["saved_backup_codes"])
    return responses.ok(factors_changed(call, {**status(call), **extra(call)}))


def cancel(call: Call, flows: SessionSetup) -> HttpResponse:
    flows.cancel(call.user, call.session)
    return responses.ok(status(call))
