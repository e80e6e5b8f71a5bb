"""Sign in with a passkey, shared by the login page and the JSON API.

A discoverable credential with user verification is possession and a second factor at once
(NIST SP 800-63B-4 3.1.7, multi-factor cryptographic authenticator): it is recorded as allauth
records one (``mfa``/``webauthn``, ``passwordless``), AMR ``hwk`` + ``user``, aal2, and the
second-factor stage does not apply (``stages.SecondFactorStage``). The other login stages still
run: an account that requires SSO refuses it, and mandatory 2FA is met.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import perform_login, record_authentication
from allauth.account.models import Login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext

from twofold import metrics
from twofold.errors import FlowError, NotAllowed, TooManyRequests
from twofold.factors import methods, policy
from twofold.factors.webauthn import flows as webauthn
from twofold.users.active import require_active

PASSKEY_STATE = "twofold_passkey"  # in Login.state: the passkey this login began with
PASSKEY = "passkey"  # the sign-in's method in the metrics


def options(request: HttpRequest) -> dict[str, Any]:
    """What ``navigator.credentials.get()`` needs: any passkey of this site, verified."""
    return webauthn.begin_assertion(request.session, webauthn.relying_party(request.get_host()))


def sign_in(
    request: HttpRequest, credential: dict[str, Any], redirect_url: str | None = None
) -> HttpResponse:
    """Check the passkey's answer, then let allauth's login (and its stages) go on."""
    rp = webauthn.relying_party(request.get_host())
    try:
        found = webauthn.passkey_sign_in(request.session, rp, credential)
    except TooManyRequests:
        metrics.sign_in(PASSKEY, metrics.LOCKED)
        raise
    except FlowError as error:
        metrics.sign_in(PASSKEY, metrics.FAILURE)
        if error.code == "webauthn_invalid":  # a wrong answer, counted in the lockout
            metrics.second_factor_failed(PASSKEY, "sign_in")
        raise
    metrics.sign_in(PASSKEY, metrics.SUCCESS)
    user = found.user
    require_active(user)
    if not policy.method_allowed(user, methods.WEBAUTHN):
        raise NotAllowed(
            gettext(
                "Your account no longer accepts security keys or passkeys: "
                "sign in with your password."
            ),
            code="two_factor_method_not_allowed",
        )
    record_authentication(request, user, "mfa", type="webauthn", id=found.pk, passwordless=True)
    # The mark travels with this login only: an earlier passkey login of the session (refused
    # by a later stage, say) never lets a password login skip its second step.
    login = Login(user=user, redirect_url=redirect_url, state={PASSKEY_STATE: found.pk})
    return perform_login(request, login)
