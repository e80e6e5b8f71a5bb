"""Twofold's allauth social-account adapter: Sign in with Google / Microsoft (DESIGN.md "SSO").

- Members are found by (provider, subject) only: allauth's ``SocialAccount(provider, uid)``. An
  email address at the identity provider never signs anyone in (the "nOAuth" class).
- No sign-up through an identity provider: a subject not linked to a member is refused with a
  page (or, for the JSON API, a redirect to the app with ``error=denied``) and audited.
- Every callback is checked for this login's ``nonce`` and the RFC 9207 ``iss`` first.
"""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.headless.socialaccount import internal as headless
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest
from django.shortcuts import render

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import FlowError
from twofold.sso import oidc

NOT_LINKED = (
    "This {provider} account is not linked to a Twofold member. "
    "Sign in with your password and link it from your settings."
)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request: HttpRequest, provider: Any, client_id: Any = None) -> Any:
        found = super().get_provider(request, provider, client_id=client_id)
        if type(found) is OpenIDConnectProvider:
            return oidc.NonceOpenIDConnectProvider(request, app=found.app)
        return found

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        try:
            oidc.check_callback(request, sociallogin)
        except FlowError as error:
            self._refuse(request, sociallogin, error.message, reason=error.code)
        process = sociallogin.state.get("process")
        if process != AuthProcess.CONNECT and not sociallogin.is_existing:
            name = sociallogin.account.get_provider().name
            self._refuse(
                request, sociallogin, NOT_LINKED.format(provider=name), reason="not_linked"
            )

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """A callback allauth refused (state, code, ID token, or the person cancelled)."""
        record(
            Event.SSO_SIGN_IN_REFUSED,
            factor="sso",
            detail={"provider": getattr(provider, "sub_id", ""), "reason": str(error or "unknown")},
        )

    def _refuse(
        self, request: HttpRequest, sociallogin: SocialLogin, message: str, *, reason: str
    ) -> None:
        provider = sociallogin.account.get_provider()
        record(
            Event.SSO_SIGN_IN_REFUSED,
            subject=sociallogin.user if sociallogin.is_existing else None,
            factor="sso",
            detail={"provider": sociallogin.account.provider, "reason": reason},
        )
        headless.on_authentication_error(
            request, provider, error=AuthError.DENIED, extra_context={"state": sociallogin.state}
        )  # raises ImmediateHttpResponse with a redirect to the app in a headless flow
        page = render(
            request, "sso/refused.html", {"message": message, "provider": provider}, status=403
        )
        raise ImmediateHttpResponse(page)
