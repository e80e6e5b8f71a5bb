"""Backup codes in the JSON API: a new set for a member with two-factor authentication."""

from __future__ import annotations

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.api.factors.shared import factors_changed
from twofold.factors.sms import flows


@endpoint("POST")
def backup_codes_regenerate(call: Call) -> HttpResponse:
    call.require_fresh()
    codes = flows.regenerate_backup_codes(call.user)
    return responses.ok(factors_changed(call, {"codes": codes}))
