"""The second-factor step of sign-in, shared by the page and the JSON API.

A member with several factors is asked for their preferred one first (``state["method"]``) and
can "try another way": another factor, or a backup code. A text is sent only when SMS is the
method in use. Codes are bound to this login (``state["binding"]``, kept in the pending login in
the server-side session). Success records the method for assurance (AMR ``otp`` for an
authenticator app or a backup code, ``sms``); the stage then ends and allauth signs the member
in with a new session id.

The factor can disappear while a login waits (an administrator's reset): the step then no longer
applies, and the pages and the API let allauth go on with the next stage.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import (
    record_authentication,
)
from allauth.account.models import Login
from allauth.core.internal.httpkit import get_client_ip
from django.http import HttpRequest

from twofold import clock
from twofold.errors import Conflict, FlowError, NotAllowed
from twofold.factors import member_factors, policy
from twofold.factors.backup_codes.flows import consume_backup_code
from twofold.factors.backup_codes.flows import remaining as remaining_backup_codes
from twofold.factors.member_factors import has_second_factor
from twofold.factors.methods import SMS, TOTP, WEBAUTHN
from twofold.factors.sms import codes
from twofold.factors.sms.models import SmsFactor
from twofold.factors.totp import flows as totp
from twofold.factors.webauthn import flows as webauthn
from twofold.signin.passkey import PASSKEY_STATE
from twofold.sms.numbers import mask
from twofold.sso import policy as sso_policy
from twofold.users.active import require_active
from twofold.users.models import User

STAGE_KEY = "twofold_second_factor"
PURPOSE = "sign_in"


def applies(user: User) -> bool:
    return has_second_factor(user)


def record_federated(request: HttpRequest, user: User, login: Login) -> None:
    """An SSO sign-in whose policy is met stands in for our step: AMR ``fed`` (recorded by
    allauth), ``mfa`` when the identity provider asserted it, and aal2 either way."""
    verdict = sso_policy.verdict(login)
    asserted = verdict is not None and verdict.asserted_mfa
    record_authentication(request, user, "mfa", type="idp", asserted=asserted)


def masked_phone(user: User) -> str | None:
    phone = member_factors.sms_phone(user)
    return mask(phone) if phone is not None else None


def _phone(user: User) -> str:
    """The number of the member's SMS factor (``two_factor_off`` without one)."""
    phone = member_factors.sms_phone(user)
    if phone is None:
        raise Conflict("Two-factor authentication is off for this account.", code="two_factor_off")
    return phone


def start(request: HttpRequest, user: User, state: dict[str, Any]) -> None:
    state["binding"] = codes.new_binding()
    state["method"] = member_factors.preferred(user, methods(user))
    if state["method"] == SMS:
        send_code(request, user, state)


def methods(user: User) -> list[str]:
    """The member's factors this step accepts: those the account's method policy allows (all of
    them when none is: the member then adds an allowed one in the enrollment stage)."""
    return policy.usable_methods(user)


def _require_usable(user: User, method: str) -> None:
    if policy.method_allowed(user, method):
        return  # the common case: no need to read the member's factors
    if method not in methods(user):
        raise NotAllowed(
            "Your account no longer accepts this method: use another one, or a backup code.",
            code="method_not_allowed",
            param="method",
        )


def method(user: User, state: dict[str, Any]) -> str | None:
    """The factor this login asks for now (a login from before several factors: SMS)."""
    available = methods(user)
    current = state.get("method", SMS)
    return current if current in available else member_factors.preferred(user, available)


def choose(request: HttpRequest, user: User, state: dict[str, Any], chosen: str) -> None:
    """ "Try another way": ask for ``chosen`` instead; choosing SMS texts a code."""
    if chosen not in member_factors.methods(user):
        raise FlowError(
            "This method is not set up for your account.", code="factor_missing", param="method"
        )
    _require_usable(user, chosen)
    state["method"] = chosen
    open_code = codes.has_open_code(user, PURPOSE, state["binding"], clock.now())
    if chosen == SMS and not open_code:
        send_code(request, user, state)


def verify_totp_code(request: HttpRequest, user: User, code: str) -> None:
    require_active(user)  # deactivated while the login waited
    _require_usable(user, TOTP)  # the account's method policy, even if it changed
    totp.verify(user, code)
    record_authentication(request, user, "mfa", type="totp")


def webauthn_options(request: HttpRequest, user: User) -> dict[str, Any]:
    """What ``navigator.credentials.get()`` needs to sign this login's challenge with a key."""
    require_active(user)
    _require_usable(user, WEBAUTHN)
    rp = webauthn.relying_party(request.get_host())
    return webauthn.begin_assertion(request.session, rp, user)


def verify_webauthn(request: HttpRequest, user: User, credential: dict[str, Any]) -> None:
    require_active(user)  # deactivated while the login waited
    _require_usable(user, WEBAUTHN)  # the account's method policy, even if it changed
    rp = webauthn.relying_party(request.get_host())
    found = webauthn.verify(user, request.session, rp, credential)
    record_authentication(request, user, "mfa", type="webauthn", id=found.pk)


def passkey_used(login: Login) -> bool:
    """This login began with a passkey (two factors at once): no second step."""
    return login.state.get(PASSKEY_STATE) is not None


def send_code(request: HttpRequest, user: User, state: dict[str, Any]) -> None:
    """Text a (new) code for this login; the cooldown and send limits apply."""
    state.pop("send_error", None)
    phone = _phone(user)
    _require_usable(user, SMS)
    codes.issue_code(
        user,
        phone,
        purpose=PURPOSE,
        binding=state["binding"],
        sender=codes.Sender(ip=get_client_ip(request)),
    )


def seconds_until_resend(user: User) -> int:
    return codes.seconds_until_resend(user, PURPOSE, clock.now())


def verify_sms_code(request: HttpRequest, user: User, state: dict[str, Any], code: str) -> None:
    now = clock.now()
    require_active(user)  # deactivated while the login waited
    _require_usable(user, SMS)  # the account's method policy, even if it changed
    codes.verify_code(user, code, purpose=PURPOSE, binding=state["binding"], now=now)
    SmsFactor.objects.filter(user=user).update(last_used_at=now)
    record_authentication(request, user, "mfa", type="sms")


def verify_backup_code(request: HttpRequest, user: User, code: str) -> int:
    require_active(user)
    left = consume_backup_code(user, code)
    SmsFactor.objects.filter(user=user).update(last_used_at=clock.now())
    record_authentication(request, user, "mfa", type="backup_codes")
    return left


# --- Re-authentication with the second factor (aal2), before binding a new phone number ---------

REAUTH_PURPOSE = "reauthenticate"
REAUTH_BINDING = "twofold_reauth_binding"


def send_reauthentication_code(request: HttpRequest, user: User) -> None:
    """Text a code to the member's current number, bound to this session.

    Raises ``two_factor_off`` (409) for a member without a second factor, or why nothing was sent.
    """
    phone = _phone(user)
    binding = request.session.get(REAUTH_BINDING) or codes.new_binding()
    codes.issue_code(
        user,
        phone,
        purpose=REAUTH_PURPOSE,
        binding=binding,
        sender=codes.Sender(ip=get_client_ip(request)),
    )
    request.session[REAUTH_BINDING] = binding


def reauthentication_code_sent(request: HttpRequest, user: User) -> bool:
    """A code was texted for this session and can still be tried."""
    binding = request.session.get(REAUTH_BINDING)
    if not binding:
        return False
    return codes.has_open_code(user, REAUTH_PURPOSE, binding, clock.now())


def reauthenticate(request: HttpRequest, user: User, code: str) -> None:
    _phone(user)
    binding = request.session.get(REAUTH_BINDING)
    if not binding:
        raise FlowError("Ask for a code first.", code="code_missing")
    codes.verify_code(user, code, purpose=REAUTH_PURPOSE, binding=binding)
    del request.session[REAUTH_BINDING]
    record_authentication(request, user, "mfa", type="sms", reauthenticated=True)


BACKUP_CODE = "backup_code"


def reauthentication_methods(user: User) -> list[str]:
    """The ways a member confirms it is them at aal2: their factors the account accepts,
    strongest first, then backup codes while any is left."""
    found = methods(user)
    if remaining_backup_codes(user):
        found.append(BACKUP_CODE)
    return found


def reauthentication_method(user: User, chosen: str | None = None) -> str | None:
    """The way asked for: ``chosen`` when the member has it, else their preferred factor."""
    available = reauthentication_methods(user)
    if chosen in available:
        return chosen
    return member_factors.preferred(user, methods(user)) or (available[0] if available else None)


def _require_reauthentication_method(user: User, method: str) -> None:
    if not has_second_factor(user):
        raise Conflict("Two-factor authentication is off for this account.", code="two_factor_off")
    if method == BACKUP_CODE:
        return  # spent whatever the factors (a wrong or used one counts in the lockout)
    if method not in member_factors.methods(user):
        raise FlowError(
            "This method is not set up for your account.", code="factor_missing", param="method"
        )
    _require_usable(user, method)


def reauthenticate_with(request: HttpRequest, user: User, method: str, code: str) -> None:
    """Confirm it is you (aal2) with a code: texted (``reauthenticate``), from the
    authenticator app, or a backup code. Wrong codes count in the second-factor lockout."""
    _require_reauthentication_method(user, method)
    if method == SMS:
        reauthenticate(request, user, code)
    elif method == TOTP:
        totp.verify(user, code)
        record_authentication(request, user, "mfa", type="totp", reauthenticated=True)
    elif method == BACKUP_CODE:
        consume_backup_code(user, code)
        record_authentication(request, user, "mfa", type="backup_codes", reauthenticated=True)
    else:  # a security key answers with an assertion: ``reauthenticate_with_key``
        raise FlowError(
            "Use your security key when your browser asks for it.",
            code="credential_missing",
            param="credential",
        )


def reauthentication_options(request: HttpRequest, user: User) -> dict[str, Any]:
    """What ``navigator.credentials.get()`` needs to confirm it is you with a security key."""
    _require_reauthentication_method(user, WEBAUTHN)
    rp = webauthn.relying_party(request.get_host())
    return webauthn.begin_assertion(request.session, rp, user)


def reauthenticate_with_key(request: HttpRequest, user: User, credential: dict[str, Any]) -> None:
    _require_reauthentication_method(user, WEBAUTHN)
    rp = webauthn.relying_party(request.get_host())
    found = webauthn.verify(user, request.session, rp, credential)
    record_authentication(request, user, "mfa", type="webauthn", id=found.pk, reauthenticated=True)
