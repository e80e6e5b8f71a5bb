"""Twofold's login stages, run by allauth's ``LoginStageController`` after the password.

Each stage decides for itself whether it applies; the controller never names a method
(STYLE.md rule 2). The sign-in state diagram is in docs/architecture.md.
"""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from allauth.account.internal.stagekit import clear_login
from allauth.account.stages import LoginStage
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal.httpkit import headed_redirect_response
from allauth.headless.internal.restkit.response import APIResponse
from django.http import HttpRequest, HttpResponse

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import FlowError
from twofold.factors import member_factors
from twofold.signin import forced_enrollment, remembered, second_factor, sign_up
from twofold.sso import linking
from twofold.sso import policy as sso_policy
from twofold.users.models import User


def _is_headless(request: HttpRequest) -> bool:
    """The login came through allauth's JSON API (``/_allauth/{client}/v1/``), not a page."""
    return getattr(getattr(request, "allauth", None), "headless", None) is not None


class SignUpCostStage(LoginStage):
    """A sign-up with an address that already has an account reaches the stages as a login
    without a user (allauth's enumeration prevention), answered like a new sign-up: here it also
    costs what a new sign-up costs (signin/sign_up.py), so its time does not tell."""

    key = "twofold_sign_up_cost"

    def handle(self) -> tuple[HttpResponse | None, bool]:
        if self.login.user is None and self.login.signup:
            # The hash, the rows and the reads of a new sign-up, rolled back (ASVS 6.3.8).
            sign_up.imitate(self.request, api=_is_headless(self.request))
        elif self.login.signup:
            # The member just chose their password: a sign-in as fresh as one with it (issue 19),
            # so the first security change does not ask for it again (sessions/freshness.py).
            record_authentication(self.request, self.login.user, "password", signup=True)
        return None, True


class SsoRequiredStage(LoginStage):
    """The member's account requires single sign-on: a password (or emailed code) sign-in ends
    here, audited, with a page (or a 403 ``sso_required`` in the API) pointing to SSO.

    A member not yet linked to the SAML connection their email's domain names gets a link ticket
    in this session instead of a dead end (sso/linking.py): the page (the API's ``meta.link``)
    offers to continue to that connection, whose answer is then linked to them."""

    key = "twofold_sso_required"
    urlname = "sso_required"

    def handle(self) -> tuple[HttpResponse | None, bool]:
        user = self.login.user
        if user is None or sso_policy.social_login_of(self.login) is not None:
            return None, True
        if not sso_policy.sso_required(user):
            return None, True
        to_link = linking.connection_to_link(user)
        detail = {"reason": "sso_required"}
        if to_link is not None:
            # The password was right: only this session, for a while, may link this connection.
            linking.offer(self.request.session, user, to_link)
            detail["link_offered"] = to_link.provider_id
        record(Event.SIGN_IN_FAILED, subject=user, detail=detail)
        if _is_headless(self.request):
            clear_login(self.request)
            meta = (
                {"link": {"provider": {"id": to_link.provider_id, "name": to_link.name}}}
                if to_link is not None
                else None
            )
            # Code and status in one call, where tests/api/test_error_codes.py reads them.
            refusal = APIResponse(
                self.request,
                errors=[{"code": "sso_required", "message": sso_policy.SSO_REQUIRED}],
                meta=meta,
                status=403,
            )
            raise ImmediateHttpResponse(refusal)
        return headed_redirect_response(self.urlname), False


class SecondFactorStage(LoginStage):
    """The member has 2FA: no session until a code of their preferred factor (authenticator
    app or SMS), of another of their factors, or a backup code is right.

    With SMS, the code is texted as soon as the stage starts, bound to this login (ASVS 6.6.2).
    """

    key = second_factor.STAGE_KEY
    urlname = "second_factor"

    def handle(self) -> tuple[HttpResponse | None, bool]:
        user = self.login.user
        if user is not None and sso_policy.satisfies_second_factor(self.login):
            second_factor.record_federated(self.request, user, self.login)
            return None, True
        if user is not None and second_factor.passkey_used(self.login):
            return None, True  # a passkey is two factors at once (aal2)
        if user is None:
            return None, True
        with member_factors.read_once(user):  # nothing below changes the member's factors
            return self._challenge(user)

    def _challenge(self, user: User) -> tuple[HttpResponse | None, bool]:
        if not second_factor.applies(user):
            return None, True
        if "binding" not in self.state and remembered.recognizes(self.request, user):
            return None, True  # a remembered browser: the password alone, aal1
        if "binding" not in self.state:
            try:
                second_factor.start(self.request, user, self.state)
            except FlowError as error:
                # The page shows why and offers "resend"; the login itself goes on waiting.
                self.state["send_error"] = error.message
        return headed_redirect_response(self.urlname), True


class TwoFactorEnrollmentStage(LoginStage):
    """The account requires 2FA and the member has none: no session until it is set up
    (number, code, backup codes, activation), or, in the grace period, until they say "Later".

    Also when an SSO sign-in's policy asks for our 2FA ("always", or as the fallback when the
    identity provider asserted no MFA) and the member has none.

    After :class:`SecondFactorStage` in ``LOGIN_STAGES``: a member who already has 2FA is
    challenged there, and the factor enrolled here is not challenged again in the same login.
    """

    key = forced_enrollment.STAGE_KEY
    urlname = "two_factor_enrollment"

    def handle(self) -> tuple[HttpResponse | None, bool]:
        user = self.login.user
        if user is None or sso_policy.satisfies_second_factor(self.login):
            return None, True
        sso_wants_ours = sso_policy.requires_our_two_factor(self.login)
        with member_factors.read_once(user):  # only decides: nothing here changes the factors
            if sso_wants_ours and not second_factor.applies(user):
                self.state[forced_enrollment.SSO_REQUIRES_OURS] = True
            elif not forced_enrollment.applies(user):
                return None, True
        return headed_redirect_response(self.urlname), True
