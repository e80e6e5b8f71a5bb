"""Two-factor management in the JSON API: the same flows and forms as the settings pages."""

from __future__ import annotations

from typing import Any

from allauth.core.internal.httpkit import get_client_ip
from django.http import HttpResponse

from twofold import clock
from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.factors import methods, preference, removal
from twofold.factors import status as factor_status
from twofold.factors.forms import ActivateForm, PreferredForm
from twofold.factors.policy import allowed_methods_for
from twofold.factors.sms import flows
from twofold.factors.sms.codes import Sender, seconds_until_resend
from twofold.factors.sms.forms import ConfirmCodeForm, PhoneForm
from twofold.factors.totp import flows as totp_flows
from twofold.factors.totp.forms import TotpCodeForm
from twofold.sessions import member_sessions as sessions
from twofold.sms.numbers import formatted


def _status(call: Call) -> dict[str, Any]:
    state = factor_status.status(call.user)
    enrollment = flows.pending(call.user)
    app = totp_flows.authenticator(call.user)
    return {
        "enabled": state.enabled,
        "method": state.preferred,  # the factor asked for first at sign-in
        "methods": list(state.methods),
        "masked_phone": state.masked_phone,
        "enabled_at": state.enabled_at.isoformat() if state.enabled_at else None,
        "last_used_at": state.last_used_at.isoformat() if state.last_used_at else None,
        "backup_codes_left": state.backup_codes_left,
        "few_backup_codes_left": state.few_backup_codes_left,
        "required": state.required,
        # The account's method policy: the methods the member may set up.
        "allowed_methods": list(allowed_methods_for(call.user)),
        "totp": None
        if app is None
        else {
            "created_at": app.created_at.isoformat(),
            "last_used_at": app.last_used_at.isoformat() if app.last_used_at else None,
        },
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


def _factors_changed(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``other_sessions``: how many other sessions the member could now end
    (``DELETE /api/v1/sessions/others``; ASVS 7.4.3)."""
    return {**data, "other_sessions": sessions.offer_to_end_other_sessions(call.user, call.session)}


def _sender(call: Call) -> Sender:
    return Sender(ip=get_client_ip(call.request))


@endpoint("GET", "DELETE")
def two_factor(call: Call) -> HttpResponse:
    """GET: status. DELETE: turn two-factor authentication off, every factor (fresh password
    needed)."""
    if call.request.method == "DELETE":
        call.require_fresh()
        flows.disable(call.user)
        return responses.ok(_factors_changed(call, _status(call)))
    return responses.ok(_status(call))


@endpoint("POST", "DELETE")
def sms_start(call: Call) -> HttpResponse:
    """``{phone, country?}``: text a code to the number (enrolling, or changing the number).
    DELETE: remove SMS; the last factor only as turning 2FA off (recent password needed)."""
    if call.request.method == "DELETE":
        call.require_fresh()
        removal.remove_factor(call.user, methods.SMS)
        return responses.ok(_factors_changed(call, _status(call)))
    # A new number, or a number beside another factor (an app, a key): aal2, as on the page.
    call.require_fresh_to_bind()
    data = call.validated(PhoneForm)
    flows.start(call.user, data["phone"], sender=_sender(call))
    return responses.ok(_status(call), status=202)


@endpoint("POST")
def sms_resend(call: Call) -> HttpResponse:
    flows.resend(call.user, sender=_sender(call))
    return responses.ok(_status(call), status=202)


@endpoint("POST")
def sms_confirm(call: Call) -> HttpResponse:
    """``{code}``: the number is confirmed; next, backup codes (or done, for a new number)."""
    flows.confirm_code(call.user, call.validated(ConfirmCodeForm)["code"])
    if flows.pending(call.user) is None:  # a new number, or SMS beside another factor: done
        return responses.ok(_factors_changed(call, _status(call)))
    return responses.ok(_status(call))


@endpoint("POST")
def backup_codes_show(call: Call) -> HttpResponse:
    """The 10 backup codes of a confirmed enrollment, shown once (each call makes new ones)."""
    return responses.ok({"codes": flows.show_backup_codes(call.user)})


@endpoint("POST")
def activate(call: Call) -> HttpResponse:
    """``{saved_backup_codes: true}``: the last step; only now is 2FA active."""
    data = call.validated(ActivateForm)
    flows.activate(call.user, saved_backup_codes=data["saved_backup_codes"])
    return responses.ok(_factors_changed(call, _status(call)))


@endpoint("POST")
def cancel(call: Call) -> HttpResponse:
    flows.cancel(call.user)
    return responses.ok(_status(call))


@endpoint("POST")
def backup_codes_regenerate(call: Call) -> HttpResponse:
    call.require_fresh()
    codes = flows.regenerate_backup_codes(call.user)
    return responses.ok(_factors_changed(call, {"codes": codes}))


# --- Authenticator app (TOTP) and several factors --------------------------------------------


def _totp_setup(call: Call, setup: totp_flows.Setup) -> dict[str, Any]:
    return {
        "secret": setup.grouped_secret,  # to type into the app; the QR code carries the same
        "otpauth_uri": setup.uri,
        "qr_code_svg": setup.qr_data_uri,
        "confirmed": setup.confirmed,
    }


@endpoint("POST", "DELETE")
def totp(call: Call) -> HttpResponse:
    """POST: start setting up an app (recent password needed): the key and QR code to scan.
    DELETE: remove the app; the last factor only as turning 2FA off (recent password needed)."""
    if call.request.method == "DELETE":
        call.require_fresh()
        removal.remove_factor(call.user, methods.TOTP)
        return responses.ok(_factors_changed(call, _status(call)))
    if totp_flows.authenticator(call.user) is None:  # else start() answers 409 totp_active
        # Beside another factor, binding the app needs that factor too (aal2), as for a number.
        call.require_fresh_to_bind()
    return responses.ok(_totp_setup(call, totp_flows.start(call.user, call.session)), status=202)


@endpoint("POST")
def totp_confirm(call: Call) -> HttpResponse:
    """``{code}``: the app has the key. Beside another factor the app is active now; otherwise
    the backup codes and activation follow (``/two-factor/totp/backup-codes``, ``…/activate``)."""
    code = call.validated(TotpCodeForm)["code"]
    active = totp_flows.confirm(call.user, call.session, code)
    answer = {**_status(call), "totp_active": active}
    return responses.ok(_factors_changed(call, answer) if active else answer)


@endpoint("POST")
def totp_backup_codes(call: Call) -> HttpResponse:
    return responses.ok({"codes": totp_flows.show_backup_codes(call.user, call.session)})


@endpoint("POST")
def totp_activate(call: Call) -> HttpResponse:
    """``{saved_backup_codes: true}``: the last step of a first factor; only now is 2FA on."""
    data = call.validated(ActivateForm)
    totp_flows.activate(call.user, call.session, saved_backup_codes=data["saved_backup_codes"])
    return responses.ok(_factors_changed(call, _status(call)))


@endpoint("POST")
def totp_cancel(call: Call) -> HttpResponse:
    totp_flows.cancel(call.user, call.session)
    return responses.ok(_status(call))


@endpoint("PUT")
def preferred(call: Call) -> HttpResponse:
    """``{method}``: the factor asked for first at sign-in (one the member has)."""
    preference.set_preferred(call.user, call.validated(PreferredForm)["method"])
    return responses.ok(_status(call))
