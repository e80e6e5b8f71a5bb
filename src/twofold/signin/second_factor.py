"""The second-factor step of sign-in, shared by the page and the JSON API.

Codes are bound to this login (``state["binding"]``, kept in the pending login in the server-side
session). Success records the method for assurance (AMR ``sms`` or ``otp``); the stage then ends
and allauth signs the member in with a new session id.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import record_authentication
from allauth.core.internal.httpkit import get_client_ip
from django.http import HttpRequest

from twofold import clock
from twofold.errors import FlowError
from twofold.factors.backup_codes.flows import consume_backup_code
from twofold.factors.registry import has_second_factor
from twofold.factors.sms import codes
from twofold.factors.sms.models import SmsFactor
from twofold.sms.numbers import mask
from twofold.users.models import User

STAGE_KEY = "twofold_second_factor"
PURPOSE = "sign_in"


def applies(user: User) -> bool:
    return has_second_factor(user)


def masked_phone(user: User) -> str:
    return mask(SmsFactor.objects.get(user=user).phone)


def start(request: HttpRequest, user: User, state: dict[str, Any]) -> None:
    state["binding"] = codes.new_binding()
    send_code(request, user, state)


def send_code(request: HttpRequest, user: User, state: dict[str, Any]) -> None:
    """Text a (new) code for this login; the cooldown and send limits apply."""
    state.pop("send_error", None)
    factor = SmsFactor.objects.get(user=user)
    codes.issue_code(
        user,
        factor.phone,
        purpose=PURPOSE,
        binding=state["binding"],
        sender=codes.Sender(ip=get_client_ip(request)),
    )


def seconds_until_resend(user: User, state: dict[str, Any]) -> int:
    return codes.seconds_until_resend(user, PURPOSE, state["binding"], clock.now())


def verify_sms_code(request: HttpRequest, user: User, state: dict[str, Any], code: str) -> None:
    now = clock.now()
    codes.verify_code(user, code, purpose=PURPOSE, binding=state["binding"], now=now)
    SmsFactor.objects.filter(user=user).update(last_used_at=now)
    record_authentication(request, user, "mfa", type="sms")


def verify_backup_code(request: HttpRequest, user: User, code: str) -> int:
    left = consume_backup_code(user, code)
    SmsFactor.objects.filter(user=user).update(last_used_at=clock.now())
    record_authentication(request, user, "mfa", type="backup_codes")
    return left


# --- Re-authentication with the second factor (aal2), before binding a new phone number ---------

REAUTH_PURPOSE = "reauthenticate"
REAUTH_BINDING = "twofold_reauth_binding"


def send_reauthentication_code(request: HttpRequest, user: User) -> None:
    """Text a code to the member's current number, bound to this session."""
    binding = request.session.get(REAUTH_BINDING) or codes.new_binding()
    request.session[REAUTH_BINDING] = binding
    factor = SmsFactor.objects.get(user=user)
    codes.issue_code(
        user,
        factor.phone,
        purpose=REAUTH_PURPOSE,
        binding=binding,
        sender=codes.Sender(ip=get_client_ip(request)),
    )


def reauthenticate(request: HttpRequest, user: User, code: str) -> None:
    binding = request.session.get(REAUTH_BINDING)
    if not binding:
        raise FlowError("Ask for a code first.", code="code_missing")
    codes.verify_code(user, code, purpose=REAUTH_PURPOSE, binding=binding)
    del request.session[REAUTH_BINDING]
    record_authentication(request, user, "mfa", type="sms", reauthenticated=True)
