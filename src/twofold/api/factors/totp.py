"""The authenticator app (TOTP) in the JSON API: set it up (key and QR code, a code, and for a
first factor backup codes and activation), remove it. The same flows and forms as the settings
pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.api.factors import activation
from twofold.api.factors.shared import factors_changed, status
from twofold.factors import methods, removal
from twofold.factors.totp import flows as totp_flows
from twofold.factors.totp.forms import TotpCodeForm


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
        return responses.ok(factors_changed(call, status(call)))
    if totp_flows.authenticator(call.user) is None:  # else start() answers 409 totp_active
        # Beside another factor, binding the app needs that factor too (aal2), as for a number.
        call.require_fresh_to_bind()
    return responses.ok(_totp_setup(call, totp_flows.start(call.user, call.session)), status=202)


@endpoint("POST")
def totp_confirm(call: Call) -> HttpResponse:
    """``{code}``: the app has the key. Beside another factor the app is active now; otherwise
    the backup codes and activation follow (``/two-factor/totp/backup-codes``, ``…/activate``)."""
    call.require_fresh_to_bind()  # binds the app beside another factor: as the start
    code = call.validated(TotpCodeForm)["code"]
    active = totp_flows.confirm(call.user, call.session, code)
    answer = {**status(call), "totp_active": active}
    return responses.ok(factors_changed(call, answer) if active else answer)


@endpoint("POST")
def totp_backup_codes(call: Call) -> HttpResponse:
    return activation.backup_codes(call, totp_flows)


@endpoint("POST")
def totp_activate(call: Call) -> HttpResponse:
    return activation.activate(call, totp_flows)


@endpoint("POST")
def totp_cancel(call: Call) -> HttpResponse:
    return activation.cancel(call, totp_flows)
