"""The authorization endpoint (``/oauth/authorize/``): django-oauth-toolkit's view, where every
rule of Twofold has already applied (a signed-in session exists only after the second factor,
forced enrollment and the SSO policy) — checked again for a session older than a rule
(idp/rules.py). Here: the account's membership, the step-up the application asks for
(idp/step_up.py), and the session's proof handed to the code (idp/assurance.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749.errors import AccessDeniedError, CustomOAuth2Error

from twofold.idp import access, assurance, rules, step_up
from twofold.idp.models import Application
from twofold.web.decorators import signed_in_user

# What the browser is sent to for what is missing: allauth's password re-authentication, or
# Twofold's second-factor one; both come back to ``next``.
_REAUTHENTICATION = {
    step_up.Missing.PASSWORD: "account_reauthenticate",
    step_up.Missing.SECOND_FACTOR: "second_factor_reauthenticate",
}
# With prompt=none nothing may be asked: the error says what would have been (OIDC Core 3.1.2.6).
_PROMPT_NONE_ERRORS = {
    step_up.Missing.PASSWORD: "login_required",
    step_up.Missing.SECOND_FACTOR: "interaction_required",
    step_up.Missing.UNMEETABLE: "unmet_authentication_requirements",
}


class Authorize(AuthorizationView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = Application.objects.get(client_id=credentials["client_id"])
        try:
            asked = step_up.asked(request.GET)
        except step_up.InvalidRequest as error:
            return self._refuse(application, credentials, "invalid_request", str(error))
        if "login" in asked.prompts:
            step_up.start_login_prompt(request.session)
            missing = step_up.Missing.SECOND_FACTOR if asked.aal2 else step_up.Missing.PASSWORD
            return self._ask_for(missing, request, without_prompt="login")
        user = signed_in_user(request)
        proof = assurance.of_session(request.session, user)
        unmet = rules.unmet(user, proof)
        if unmet is rules.Unmet.SIGN_IN_AGAIN:
            if "none" in asked.prompts:
                return self._refuse(
                    application, credentials, "login_required", "The member must sign in again."
                )
            return self._sign_in_again(request)
        missing_now = step_up.missing(asked, proof, user, request.session)
        if missing_now is None and unmet is rules.Unmet.SECOND_FACTOR:
            missing_now = step_up.Missing.SECOND_FACTOR
        if missing_now is None:
            return super().get(request, *args, **kwargs)
        if "none" in asked.prompts or missing_now is step_up.Missing.UNMEETABLE:
            return self._refuse(
                application,
                credentials,
                _PROMPT_NONE_ERRORS[missing_now],
                "The sign-in does not meet what the application asked for.",
            )
        return self._ask_for(missing_now, request)

    def create_authorization_response(
        self, request: HttpRequest, scopes: Any, credentials: dict[str, Any], allow: bool
    ) -> Any:
        user = signed_in_user(request)
        application = Application.objects.get(client_id=credentials["client_id"])
        if not access.may_sign_in(application, user):
            raise OAuthToolkitError(
                error=AccessDeniedError(
                    description="This application belongs to another account.",
                    state=credentials.get("state"),
                ),
                redirect_uri=credentials["redirect_uri"],
            )
        proof = assurance.of_session(request.session, user)
        return super().create_authorization_response(
            request, scopes, {**credentials, **proof.as_credentials()}, allow
        )

    def _ask_for(
        self, missing: step_up.Missing, request: HttpRequest, without_prompt: str | None = None
    ) -> HttpResponse:
        query = request.GET.copy()
        if without_prompt:
            rest = [p for p in query.get("prompt", "").split() if p != without_prompt]
            if rest:
                query["prompt"] = " ".join(rest)
            else:
                query.pop("prompt", None)
        back = f"{request.path}?{query.urlencode()}"
        return redirect(f"{reverse(_REAUTHENTICATION[missing])}?{urlencode({'next': back})}")

    def _sign_in_again(self, request: HttpRequest) -> HttpResponse:
        """The session predates a rule that a new sign-in applies: it ends, and the browser
        signs in again, then comes back here."""
        back = request.get_full_path()
        logout(request)
        return redirect(f"{reverse('account_login')}?{urlencode({'next': back})}")

    def _refuse(
        self, application: Application, credentials: dict[str, Any], code: str, why: str
    ) -> HttpResponse:
        error = CustomOAuth2Error(error=code, description=why, state=credentials.get("state"))
        return self.error_response(
            OAuthToolkitError(error=error, redirect_uri=credentials["redirect_uri"]), application
        )
