"""The second-factor step of sign-in, and re-authentication at aal2: shared by pages and API.

A member with several factors is asked for their preferred one first (``state["method"]``) and
can "try another way": another factor, or a backup code. How each way is asked for and checked
is the challenge table's (``factors/challenges.py``): this module names no method (STYLE.md
rule 2). A code is bound to this login (``state["binding"]``, kept in the pending login in the
server-side session) or, at re-authentication, to the session. Success records the method for
assurance (``sessions/assurance.py``); the stage then ends and allauth signs the member in with
a new session id.

The factor can disappear while a login waits (an administrator's reset): the step then no longer
applies, and the pages and the API let allauth go on with the next stage.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import record_authentication
from allauth.account.models import Login
from allauth.core.internal.httpkit import get_client_ip
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from twofold import metrics
from twofold.errors import Conflict, FlowError, NotAllowed, TooManyRequests
from twofold.factors import member_factors, policy
from twofold.factors.attempts import Attempt, Verified
from twofold.factors.backup_codes.flows import remaining as remaining_backup_codes
from twofold.factors.challenges import challenge
from twofold.factors.methods import BACKUP_CODE, LABELS, METHODS
from twofold.factors.sms.codes import new_binding
from twofold.signin.passkey import PASSKEY_STATE
from twofold.signin.state import SecondFactorState
from twofold.sms.numbers import mask
from twofold.sso import policy as sso_policy
from twofold.users.active import require_active
from twofold.users.models import User

STAGE_KEY = "twofold_second_factor"
PURPOSE = "sign_in"
REAUTH_PURPOSE = "reauthenticate"
REAUTH_BINDING = "twofold_reauth_binding"
# The refusals that are wrong answers (each counted in the second-factor lockout).
WRONG_ANSWERS = frozenset(("code_invalid", "backup_code_invalid", "webauthn_invalid"))


def applies(user: User) -> bool:
    return member_factors.has_second_factor(user)


def record_federated(request: HttpRequest, user: User, login: Login) -> None:
    """An SSO sign-in whose policy is met stands in for our step: AMR ``fed`` (recorded by
    allauth), ``mfa`` when the identity provider asserted it, and aal2 either way."""
    verdict = sso_policy.verdict(login)
    asserted = verdict is not None and verdict.asserted_mfa
    record_authentication(request, user, "mfa", type="idp", asserted=asserted)


def passkey_used(login: Login) -> bool:
    """This login began with a passkey (two factors at once): no second step."""
    return login.state.get(PASSKEY_STATE) is not None


def masked_phone(user: User) -> str | None:
    phone = member_factors.sms_phone(user)
    return mask(phone) if phone is not None else None


def accepted_methods(user: User) -> list[str]:
    """The member's factors this step accepts: those the account's method policy allows.

    None when it allows none of them (issue 19): the account no longer trusts them, so nothing is
    texted and the member proves it is them with a backup code, then adds an allowed factor in
    the enrollment stage."""
    allowed = policy.allowed_methods_for(user)
    return [found for found in member_factors.methods(user) if found in allowed]


def replacing(user: User) -> bool:
    """The account no longer allows any of the member's factors (a backup code, then a new one)."""
    return policy.needs_allowed_factor(user)


def labels_no_longer_allowed(user: User) -> list[str]:
    """The member's factors the account no longer allows, as people name them."""
    allowed = policy.allowed_methods_for(user)
    return [str(LABELS[found]) for found in member_factors.methods(user) if found not in allowed]


def _require_usable(user: User, method: str) -> None:
    """The account's method policy, even if it changed while the login waited; backup codes
    work whatever the factors."""
    if method == BACKUP_CODE or policy.method_allowed(user, method):
        return  # the common case: no need to read the member's factors
    if method not in accepted_methods(user):
        raise NotAllowed(
            gettext(
                "Your account no longer accepts this method: use another one, or a backup code."
            ),
            code="two_factor_method_not_allowed",
            param="method",
        )


def _require_set_up(user: User, method: str) -> None:
    """409 ``factor_missing``: the member has no such factor (backup codes: checked when used)."""
    if method != BACKUP_CODE and method not in member_factors.methods(user):
        raise Conflict(
            gettext("This method is not set up for your account."),
            code="factor_missing",
            param="method",
        )


# --- At sign-in ----------------------------------------------------------------------------------


def _attempt(request: HttpRequest, user: User, state: SecondFactorState) -> Attempt:
    return Attempt(
        user=user,
        session=request.session,
        host=request.get_host(),
        ip=get_client_ip(request),
        purpose=PURPOSE,
        binding=state["binding"],
    )


# Said when a sign-in starts within the cooldown of another one's text (issue 19).
EARLIER_SIGN_IN = gettext_lazy(
    "A code was sent for an earlier sign-in a moment ago. It works only there. "
    "You can get a code for this sign-in in {wait} seconds."
)


def start(request: HttpRequest, user: User, state: SecondFactorState) -> None:
    """A new binding for this login, and the preferred factor asked for (a texted one is sent).

    Within the resend cooldown of an earlier sign-in's text, nothing is sent: that code stays
    bound to its own login (ASVS 6.6.2), and this one waits for the cooldown to end."""
    state["binding"] = new_binding()
    state["method"] = member_factors.preferred(user, accepted_methods(user))
    try:
        _deliver(request, user, state, new=True)  # a new binding: no code of it can be open
    except TooManyRequests as error:
        if error.code != "sms_resend_cooldown":
            raise
        message = EARLIER_SIGN_IN.format(wait=error.retry_after)
        raise TooManyRequests(
            message, retry_after=error.retry_after, code="sms_resend_cooldown"
        ) from error


def method(user: User, state: SecondFactorState) -> str | None:
    """The factor this login asks for now (a login from before several factors: the first)."""
    available = accepted_methods(user)
    current = state.get("method")
    return current if current in available else member_factors.preferred(user, available)


def choose(request: HttpRequest, user: User, state: SecondFactorState, chosen: str) -> None:
    """ "Try another way": ask for ``chosen`` instead; a texted factor sends a code unless one
    for this login is still open."""
    _require_set_up(user, chosen)
    _require_usable(user, chosen)
    state["method"] = chosen
    _deliver(request, user, state)


def _deliver(
    request: HttpRequest, user: User, state: SecondFactorState, *, new: bool = False
) -> None:
    """Send the code of the factor asked for, if it is one that is delivered (texted)."""
    current = method(user, state)
    if current is not None and challenge(current).delivered:
        state.pop("send_error", None)
        challenge(current).begin(_attempt(request, user, state), again=new)


def resend(request: HttpRequest, user: User, state: SecondFactorState, chosen: str) -> None:
    """A new code of ``chosen`` for this login (the cooldown and send limits apply)."""
    state.pop("send_error", None)
    if not challenge(chosen).delivered:
        raise Conflict(
            gettext("This method sends no code: enter the one you have."), code="no_code_sent"
        )
    _require_set_up(user, chosen)
    _require_usable(user, chosen)
    challenge(chosen).begin(_attempt(request, user, state), again=True)


def code_waiting(request: HttpRequest, user: User, state: SecondFactorState) -> bool:
    """A code of the factor in use was texted for this login and can still be entered."""
    current = method(user, state)
    return current is not None and challenge(current).waiting(_attempt(request, user, state))


def seconds_until_resend(request: HttpRequest, user: User, state: SecondFactorState) -> int:
    """The wait before a new code of the factor in use can be sent (0 when it sends none)."""
    current = method(user, state)
    if current is None:
        return 0
    return challenge(current).seconds_until_again(_attempt(request, user, state))


def options(
    request: HttpRequest, user: User, state: SecondFactorState, chosen: str
) -> dict[str, Any]:
    """What the browser needs to answer ``chosen`` for this login (a security key's request)."""
    require_active(user)
    _require_usable(user, chosen)
    return challenge(chosen).begin(_attempt(request, user, state)) or {}


def verify(
    request: HttpRequest, user: User, state: SecondFactorState, chosen: str, answer: Any
) -> Verified:
    """The member's answer to ``chosen`` (a factor, or a backup code): recorded for assurance, or
    a FlowError. Wrong answers count in the second-factor lockout."""
    require_active(user)  # deactivated while the login waited
    _require_set_up(user, chosen)  # 409 ``factor_missing``, whichever method it is
    _require_usable(user, chosen)
    verified = _checked(_attempt(request, user, state), chosen, answer)
    record_authentication(request, user, "mfa", **verified.record)
    return verified


def _checked(attempt: Attempt, chosen: str, answer: Any) -> Verified:
    """The challenge's verdict, counted (metrics.py): a sign-in's step by outcome, and every
    wrong answer, at sign-in or re-authentication."""
    signing_in = attempt.purpose == PURPOSE
    try:
        verified = challenge(chosen).verify(attempt, answer)
    except TooManyRequests:
        if signing_in:
            metrics.sign_in(chosen, metrics.LOCKED)
        raise
    except FlowError as error:
        if signing_in:
            metrics.sign_in(chosen, metrics.FAILURE)
        if error.code in WRONG_ANSWERS:
            metrics.second_factor_failed(chosen, attempt.purpose)
        raise
    if signing_in:
        metrics.sign_in(chosen, metrics.SUCCESS)
    return verified


# --- Re-authentication with a second factor (aal2), before binding a new factor ---------------


def reauthentication_methods(user: User) -> list[str]:
    """The ways a member confirms it is them at aal2: their factors the account accepts,
    strongest first, then backup codes while any is left."""
    found = accepted_methods(user)
    if remaining_backup_codes(user):
        found.append(BACKUP_CODE)
    return found


def reauthentication_method(user: User, chosen: str | None = None) -> str | None:
    """The way asked for: ``chosen`` when the member has it, else their preferred factor (the
    same default for pages and API)."""
    available = reauthentication_methods(user)
    if chosen in available:
        return chosen
    preferred = member_factors.preferred(user, accepted_methods(user))
    return preferred or (available[0] if available else None)


def _reauthentication(request: HttpRequest, user: User, chosen: str) -> Attempt:
    if not member_factors.has_second_factor(user):
        raise Conflict(
            gettext("Two-factor authentication is off for this account."), code="two_factor_off"
        )
    if chosen not in (*METHODS, BACKUP_CODE):
        raise FlowError(gettext("There is no such method."), code="invalid_choice", param="method")
    _require_set_up(user, chosen)
    _require_usable(user, chosen)
    binding = request.session.get(REAUTH_BINDING) or new_binding()
    request.session[REAUTH_BINDING] = binding
    return Attempt(
        user=user,
        session=request.session,
        host=request.get_host(),
        ip=get_client_ip(request),
        purpose=REAUTH_PURPOSE,
        binding=binding,
    )


def open_reauthentication(
    request: HttpRequest, user: User, chosen: str, *, again: bool = False
) -> dict[str, Any] | None:
    """Open the challenge of ``chosen`` for this session: text a code (``again``: a new one), or
    a security key's request options. Raises ``two_factor_off`` (409) for a member without a
    second factor, or why nothing was sent."""
    return challenge(chosen).begin(_reauthentication(request, user, chosen), again=again)


def send_reauthentication_code(request: HttpRequest, user: User, chosen: str) -> None:
    """Text a new code for this session (the API's ``POST {}``); a method that sends none asks
    for its code instead: ``code`` is then ``required``, as for any field left out."""
    if not challenge(chosen).delivered:
        raise FlowError(
            gettext("Enter the code of your authenticator app or a backup code."),
            code="required",
            param="code",
        )
    open_reauthentication(request, user, chosen, again=True)


def reauthentication_waiting(request: HttpRequest, user: User, chosen: str) -> bool:
    """A code was texted for this session and can still be tried."""
    if not request.session.get(REAUTH_BINDING):
        return False
    return challenge(chosen).waiting(_reauthentication(request, user, chosen))


def reauthenticate(request: HttpRequest, user: User, chosen: str, answer: Any) -> None:
    """Confirm it is you (aal2) with ``chosen``: a texted or app code, a backup code, or a
    security key's assertion. Wrong answers count in the second-factor lockout."""
    attempt = _reauthentication(request, user, chosen)
    verified = _checked(attempt, chosen, answer)
    request.session.pop(REAUTH_BINDING, None)
    record_authentication(request, user, "mfa", **verified.record, reauthenticated=True)
