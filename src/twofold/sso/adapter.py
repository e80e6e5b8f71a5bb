"""Twofold's allauth social-account adapter: Google, Microsoft and SAML (DESIGN.md "SSO").

- Members are found by (provider, subject) only: allauth's ``SocialAccount(provider, uid)``. An
  email address at the identity provider never signs anyone in (the "nOAuth" class).
- No sign-up through an identity provider, except just-in-time membership in an account that
  claims the person's domain (sso/jit.py): any other subject not linked to a member is refused
  with a page (or, for the JSON API, a redirect to the app with ``error=denied``) and audited.
- Every OIDC callback is checked for this login's ``nonce`` and the RFC 9207 ``iss`` first;
  Microsoft sign-ins must come from a tenant the member's account allows (sso/tenants.py).
- The account's or connection's 2FA policy may refuse the sign-in (sso/policy.py).
"""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from twofold import metrics
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import FlowError, StrOrPromise
from twofold.organizations.models import Organization, membership_of
from twofold.sso import jit, linking, oidc, refusal, saml, tenants
from twofold.sso import policy as sso_policy
from twofold.users.models import User

NOT_LINKED = gettext_lazy(
    "This {provider} account is not linked to a Twofold member. "
    "Sign in with your password and link it from your settings."
)
EMAIL_TAKEN = gettext_lazy(
    "A member with this email address already exists. Sign in with your password and link "
    "{provider} from your settings."
)
INVALID_CONNECTION = gettext_lazy("This single sign-on connection belongs to another account.")
NOT_YOUR_EMAIL = gettext_lazy(
    "Your identity provider signed in another email address than your Twofold account's. Sign in "
    "there as yourself, then link again."
)
ALREADY_LINKED = gettext_lazy(
    "Your Twofold account is already linked to this connection. Sign in with SSO."
)
TENANT_NOT_ALLOWED = gettext_lazy(
    "Your account does not accept sign-ins from this Microsoft organization (Entra tenant). "
    "Ask an administrator to allow it."
)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request: HttpRequest, provider: Any, client_id: Any = None) -> Any:
        found = super().get_provider(request, provider, client_id=client_id)
        if type(found) is OpenIDConnectProvider:
            return oidc.NonceOpenIDConnectProvider(request, app=found.app)
        if type(found) is SAMLProvider:
            return saml.TwofoldSamlProvider(request, app=found.app)
        return found

    def list_apps(self, request: HttpRequest, provider: Any = None, client_id: Any = None) -> Any:
        """allauth's apps (Google, Microsoft from settings) and the accounts' SAML connections."""
        found: list[SocialApp] = super().list_apps(request, provider=provider, client_id=client_id)
        return [*found, *saml.apps(provider, client_id)]

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Before anyone is signed in or linked: the ID token's checks (OIDC), the Microsoft
        tenant, the member (linked, or joining just in time), and the account's 2FA policy."""
        provider = sociallogin.account.get_provider()
        if not isinstance(provider, SAMLProvider):
            try:
                oidc.check_callback(request, sociallogin)
            except FlowError as error:
                self._refuse(request, sociallogin, error.message, reason=error.code)
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            self._check_tenant(request, sociallogin, _organization_of(request.user))
            self._check_saml_link(request, sociallogin, request.user)
            return
        to_link = None
        if sociallogin.is_existing:
            organization = _organization_of(sociallogin.user)
        elif (to_link := self._member_to_link(request, sociallogin)) is not None:
            organization = _organization_of(to_link)
        else:
            organization = self._organization_to_join(request, sociallogin)
        connection = saml.connection_of_provider(sociallogin.account.provider)
        if connection is not None and connection.organization_id != getattr(
            organization, "pk", None
        ):
            self._refuse(request, sociallogin, INVALID_CONNECTION, reason="another_account")
        self._check_tenant(request, sociallogin, organization)
        if sso_policy.verdict_for(sociallogin, organization).outcome is sso_policy.Outcome.REFUSED:
            self._refuse(request, sociallogin, sso_policy.MFA_NOT_ASSERTED, reason="mfa_missing")
        # Only once every check passed: a refused sign-in links nobody and creates nobody.
        if to_link is not None:
            self._link(request, sociallogin, to_link)
        elif not sociallogin.is_existing and organization is not None:
            jit.join(sociallogin, organization)
        metrics.sign_in(refusal.SSO, metrics.SUCCESS)

    def _organization_to_join(
        self, request: HttpRequest, sociallogin: SocialLogin
    ) -> Organization | None:
        """The account a newcomer joins just in time; refused when there is none."""
        name = sociallogin.account.get_provider().name
        organization = jit.organization_for(sociallogin)
        if organization is None:
            self._refuse(
                request, sociallogin, NOT_LINKED.format(provider=name), reason="not_linked"
            )
        elif jit.email_taken(sociallogin):
            self._refuse(
                request, sociallogin, EMAIL_TAKEN.format(provider=name), reason="email_taken"
            )
        return organization

    def _check_saml_link(self, request: HttpRequest, sociallogin: SocialLogin, user: Any) -> None:
        """A member links only a connection of their own account, and only a subject whose
        identity provider asserts their own email (never someone else's identity)."""
        connection = saml.connection_of_provider(sociallogin.account.provider)
        if connection is None:
            return
        if connection.organization_id != getattr(_organization_of(user), "pk", None):
            self._refuse(request, sociallogin, INVALID_CONNECTION, reason="another_account")
        if not linking.asserts_members_email(user, sociallogin):
            self._refuse(request, sociallogin, NOT_YOUR_EMAIL, reason="email_mismatch")

    def _member_to_link(self, request: HttpRequest, sociallogin: SocialLogin) -> User | None:
        """The member a new SAML subject answers this session's link ticket for (their right
        password under "Require SSO"), once the subject is theirs to link."""
        if saml.connection_of_provider(sociallogin.account.provider) is None:
            return None
        user = linking.take_ticket(request.session, sociallogin)
        if user is not None:
            self._check_saml_link(request, sociallogin, user)
        return user

    def _link(self, request: HttpRequest, sociallogin: SocialLogin, user: User) -> None:
        """Link the subject to ``user``, who then signs in through it; audited."""
        if not linking.link(user, sociallogin):
            self._refuse(request, sociallogin, ALREADY_LINKED, reason="already_linked")
        detail = {"provider": sociallogin.account.provider, "at": "sign_in"}
        record(Event.SSO_LINKED, subject=user, factor="sso", detail=detail)

    def _check_tenant(
        self, request: HttpRequest, sociallogin: SocialLogin, organization: Organization | None
    ) -> None:
        if not tenants.allowed(sociallogin, organization):
            self._refuse(request, sociallogin, TENANT_NOT_ALLOWED, reason="tenant_not_allowed")

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """A callback allauth refused (state, code, ID token, or the person cancelled)."""
        detail = {"provider": getattr(provider, "sub_id", ""), "reason": str(error or "unknown")}
        if exception is not None:
            # What failed (a forged ID token, a stale state, a replayed code), for the log.
            detail["cause"] = f"{type(exception).__name__}: {exception}"[:200]
        record(Event.SSO_SIGN_IN_REFUSED, factor="sso", detail=detail)
        metrics.sign_in(refusal.SSO, metrics.FAILURE)

    def _refuse(
        self, request: HttpRequest, sociallogin: SocialLogin, message: StrOrPromise, *, reason: str
    ) -> None:
        provider = sociallogin.account.get_provider()
        connection = saml.connection_of_provider(sociallogin.account.provider)
        page = refusal.refuse(
            request,
            provider,
            message=str(message),
            reason=reason,
            state=sociallogin.state,
            subject=sociallogin.user if sociallogin.is_existing else None,
            connection=connection,
        )
        raise ImmediateHttpResponse(page)


def _organization_of(user: User | Any) -> Organization | None:
    membership = membership_of(user) if user is not None and user.pk else None
    return membership.organization if membership is not None else None
