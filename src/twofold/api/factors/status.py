"""Two-factor authentication as a whole in the JSON API: its status, turning it off, and the
factor asked for first at sign-in. The same flows and forms as the settings pages."""

from __future__ import annotations

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.api.factors.shared import factors_changed, status
from twofold.factors import preference, removal
from twofold.factors.forms import PreferredForm


@endpoint("GET", "DELETE")
def two_factor(call: Call) -> HttpResponse:
    """GET: status. DELETE: turn two-factor authentication off, every factor (fresh password
    needed)."""
    if call.request.method == "DELETE":
        call.require_fresh()
        removal.turn_off(call.user)
        return responses.ok(factors_changed(call, status(call)))
    return responses.ok(status(call))


@endpoint("PUT")
def preferred(call: Call) -> HttpResponse:
    """``{method}``: the factor asked for first at sign-in (one the member has)."""
    preference.set_preferred(call.user, call.validated(PreferredForm)["method"])
    return responses.ok(status(call))
