"""Two-factor management in the JSON API: the same flows and forms as the settings pages."""

from __future__ import annotations

from typing import Any

from allauth.core.internal.httpkit import get_client_ip
from django.http import HttpResponse

from twofold import clock
from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.errors import ReauthenticationRequired
from twofold.factors.sms import flows
from twofold.factors.sms.codes import Sender, seconds_until_resend
from twofold.factors.sms.forms import ActivateForm, ConfirmCodeForm, PhoneForm
from twofold.signin.reauthentication import recently_authenticated
from twofold.sms.numbers import formatted


def _fresh(call: Call, *, second_factor: bool = False) -> None:
    assert call.user is not None
    if not recently_authenticated(call.session, call.user, second_factor=second_factor):
        if second_factor:
            raise ReauthenticationRequired(
                "Confirm it is you with a code sent to your current number first "
                "(POST /_allauth/{client}/v1/auth/2fa/reauthenticate).",
            )
        raise ReauthenticationRequired(
            "Confirm your password first (POST /_allauth/{client}/v1/auth/reauthenticate)."
        )


def _status(call: Call) -> dict[str, Any]:
    assert call.user is not None
    state = flows.status(call.user)
    enrollment = flows.pending(call.user)
    return {
        "enabled": state.enabled,
        "method": "sms" if state.enabled else None,
        "masked_phone": state.masked_phone,
        "enabled_at": state.enabled_at.isoformat() if state.enabled_at else None,
        "last_used_at": state.last_used_at.isoformat() if state.last_used_at else None,
        "backup_codes_left": state.backup_codes_left,
        "few_backup_codes_left": state.few_backup_codes_left,
        "required": state.required,
        "pending": None
        if enrollment is None
        else {
            "purpose": enrollment.purpose,
            "phone": formatted(enrollment.phone),
            "confirmed": enrollment.verified_at is not None,
            "resend_in": seconds_until_resend(
                call.user, enrollment.purpose, clock.now(), phone=enrollment.phone
            ),
        },
    }


def _sender(call: Call) -> Sender:
    return Sender(ip=get_client_ip(call.request))


@endpoint("GET", "DELETE")
def two_factor(call: Call) -> HttpResponse:
    """GET: status. DELETE: turn two-factor authentication off (fresh password needed)."""
    assert call.user is not None
    if call.request.method == "DELETE":
        _fresh(call)
        flows.disable(call.user)
    return responses.ok(_status(call))


@endpoint("POST")
def sms_start(call: Call) -> HttpResponse:
    """``{phone, country?}``: text a code to the number (enrolling, or changing the number)."""
    assert call.user is not None
    changing = flows.status(call.user).enabled
    _fresh(call, second_factor=changing)
    data = call.validated(PhoneForm)
    flows.start(call.user, data["phone"], sender=_sender(call))
    return responses.ok(_status(call), status=202)


@endpoint("POST")
def sms_resend(call: Call) -> HttpResponse:
    assert call.user is not None
    flows.resend(call.user, sender=_sender(call))
    return responses.ok(_status(call), status=202)


@endpoint("POST")
def sms_confirm(call: Call) -> HttpResponse:
    """``{code}``: the number is confirmed; next, backup codes (or done, for a new number)."""
    assert call.user is not None
    flows.confirm_code(call.user, call.validated(ConfirmCodeForm)["code"])
    return responses.ok(_status(call))


@endpoint("POST")
def backup_codes_show(call: Call) -> HttpResponse:
    """The 10 backup codes of a confirmed enrollment, shown once (each call makes new ones)."""
    assert call.user is not None
    return responses.ok({"codes": flows.show_backup_codes(call.user)})


@endpoint("POST")
def activate(call: Call) -> HttpResponse:
    """``{saved_backup_codes: true}``: the last step; only now is 2FA active."""
    assert call.user is not None
    data = call.validated(ActivateForm)
    flows.activate(call.user, saved_backup_codes=data["saved_backup_codes"])
    return responses.ok(_status(call))


@endpoint("POST")
def cancel(call: Call) -> HttpResponse:
    assert call.user is not None
    flows.cancel(call.user)
    return responses.ok(_status(call))


@endpoint("POST")
def backup_codes_regenerate(call: Call) -> HttpResponse:
    assert call.user is not None
    _fresh(call)
    return responses.ok({"codes": flows.regenerate_backup_codes(call.user)})
