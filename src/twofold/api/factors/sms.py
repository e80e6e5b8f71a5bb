"""Text messages (SMS) in the JSON API: enrolling a number as the first factor (code, backup
codes, activation), beside another factor, or changing it; removing it. The same flows and forms
as the settings pages."""

from __future__ import annotations

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.api.factors.shared import factors_changed, sender, status
from twofold.factors import methods, removal
from twofold.factors.forms import ActivateForm
from twofold.factors.sms import flows
from twofold.factors.sms.forms import ConfirmCodeForm, PhoneForm


@endpoint("POST", "DELETE")
def sms_start(call: Call) -> HttpResponse:
    """``{phone, country?}``: text a code to the number (enrolling, or changing the number).
    DELETE: remove SMS; the last factor only as turning 2FA off (recent password needed)."""
    if call.request.method == "DELETE":
        call.require_fresh()
        removal.remove_factor(call.user, methods.SMS)
        return responses.ok(factors_changed(call, status(call)))
    # A new number, or a number beside another factor (an app, a key): aal2, as on the page.
    call.require_fresh_to_bind()
    data = call.validated(PhoneForm)
    flows.start(call.user, data["phone"], sender=sender(call))
    return responses.ok(status(call), status=202)


@endpoint("POST")
def sms_resend(call: Call) -> HttpResponse:
    flows.resend(call.user, sender=sender(call))
    return responses.ok(status(call), status=202)


@endpoint("POST")
def sms_confirm(call: Call) -> HttpResponse:
    """``{code}``: the number is confirmed; next, backup codes (or done, for a new number)."""
    # Binds the number (a new one, or one beside another factor): the first step's freshness.
    call.require_fresh_to_bind()
    flows.confirm_code(call.user, call.validated(ConfirmCodeForm)["code"])
    if flows.pending(call.user) is None:  # a new number, or SMS beside another factor: done
        return responses.ok(factors_changed(call, status(call)))
    return responses.ok(status(call))


@endpoint("POST")
def sms_backup_codes(call: Call) -> HttpResponse:
    """The 10 backup codes of a confirmed enrollment: the same set at every call until
    activation (a retry or a second client gets the codes already saved)."""
    call.require_fresh_to_bind()  # shows the codes that will replace any others: as the start
    return responses.ok({"codes": flows.show_backup_codes(call.user)})


@endpoint("POST")
def sms_activate(call: Call) -> HttpResponse:
    """``{saved_backup_codes: true}``: the last step; only now is 2FA active."""
    call.require_fresh_to_bind()  # binds the number and activates its codes: as the start
    data = call.validated(ActivateForm)
    flows.activate(call.user, saved_backup_codes=data["saved_backup_codes"])
    return responses.ok(factors_changed(call, status(call)))


@endpoint("POST")
def sms_cancel(call: Call) -> HttpResponse:
    flows.cancel(call.user)
    return responses.ok(status(call))
