"""What every two-factor endpoint answers with: the member's 2FA status, and after a change of
factors, the offer to end the other sessions (ASVS 7.4.3)."""

from __future__ import annotations

from typing import Any

from allauth.core.internal.httpkit import get_client_ip

from twofold import clock
from twofold.api.endpoint import Call
from twofold.factors import status as factor_status
from twofold.factors.policy import allowed_methods_for
from twofold.factors.sms import flows as sms_flows
from twofold.factors.sms.codes import Sender, seconds_until_resend
from twofold.factors.totp import flows as totp_flows
from twofold.sessions import member_sessions
from twofold.sms.numbers import formatted


def status(call: Call) -> dict[str, Any]:
    state = factor_status.status(call.user)
    enrollment = sms_flows.pending(call.user)
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


def factors_changed(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``other_sessions``: how many other sessions the member could now end
    (``DELETE /api/v1/sessions/others``; ASVS 7.4.3)."""
    return {
        **data,
        "other_sessions": member_sessions.offer_to_end_other_sessions(call.user, call.session),
    }


def sender(call: Call) -> Sender:
    return Sender(ip=get_client_ip(call.request))
