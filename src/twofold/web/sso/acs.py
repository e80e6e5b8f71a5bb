"""The SAML assertion consumer: allauth's ``FinishACSView`` with Twofold's checks (sso/saml.py).

allauth's ``acs/`` view keeps the IdP's cross-site POST in a short-lived cookie and redirects to
``acs/finish/`` (so the session cookie, SameSite=Lax, comes along); this view replaces allauth's
finish. In order: the response's size; python3-saml strict validation with
:class:`~twofold.sso.saml.StrictAuth`; ``InResponseTo`` naming a request this session sent to
this connection (or, only where the connection allows it, no ``InResponseTo`` at all); the
assertion id never seen before. Each refusal shows a page (or redirects an API client's browser
to its app with ``error=``) and is audited; nobody is signed in.

A test sign-in started by an administrator from "Account & Security" ends here too: it shows what
the identity provider asserted and signs nobody in.
"""

from __future__ import annotations

import binascii
from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal import httpkit
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.sessions import LoginSession
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from lxml import etree
from onelogin.saml2.errors import OneLogin_Saml2_Error
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML
from xmlsec import Error as XmlSecError

from twofold.errors import NotAllowed, StrOrPromise
from twofold.sso import refusal, saml, trial_sign_in
from twofold.sso.models import SamlConnection

INVALID = gettext_lazy(
    "Your identity provider's answer could not be verified, so nobody was signed in."
)
EXPIRED = gettext_lazy("This sign-in took too long or was already used. Start again.")
UNSOLICITED = gettext_lazy(
    "This sign-in did not start here. Start from the sign-in page with “Sign in with SSO”."
)


@login_not_required
def finish(request: HttpRequest, organization_slug: str) -> HttpResponse:
    connection = SamlConnection.objects.filter(slug=organization_slug).first()
    if connection is None:
        raise Http404
    provider = saml.TwofoldSamlProvider(request, app=saml.app_of(connection))
    try:
        return _finish(request, connection, provider)
    except ImmediateHttpResponse as immediate:
        return immediate.response


def _finish(
    request: HttpRequest, connection: SamlConnection, provider: saml.TwofoldSamlProvider
) -> HttpResponse:
    def refuse(
        message: StrOrPromise, reason: str, state: dict[str, Any] | None = None
    ) -> HttpResponse:
        return refusal.refuse(
            request,
            provider,
            message=str(message),
            reason=reason,
            state=state,
            connection=connection,
        )

    posted = _posted_request(request)
    if posted is None:
        return refuse(EXPIRED, "no_response")
    if len(posted.POST.get("SAMLResponse", "")) > saml.MAX_RESPONSE_CHARS:
        return refuse(INVALID, "too_large")
    auth = saml.build_auth(posted, connection.slug, provider.app)
    try:
        auth.process_response(request_id=None)
    except (binascii.Error, ValueError, OneLogin_Saml2_Error, XmlSecError, etree.LxmlError):
        # Not base64 or not XML (lxml's syntax error is no ValueError): a refusal, not a 500.
        return refuse(INVALID, "invalid_response")
    if auth.get_errors() or not auth.is_authenticated():
        # The unverified InResponseTo only finds this session's own state, so that an API
        # client's browser returns to its app with error= instead of stopping on our page.
        return refuse(INVALID, _reason(auth), _state(request, provider, _claimed_request(auth)))
    request_id = auth.get_last_response_in_response_to()
    state = _state(request, provider, request_id)
    if request_id and state is None:
        return refuse(EXPIRED, "in_response_to")
    if not request_id and not connection.allow_idp_initiated:
        return refuse(UNSOLICITED, "unsolicited")
    assertion = auth.get_last_assertion_id()
    if not saml.remember_assertion(
        connection, assertion, auth.get_last_assertion_not_on_or_after()
    ):
        return refuse(EXPIRED, "replayed", state)
    sociallogin = provider.sociallogin_from_response(request, auth)
    if state is not None and state.get(trial_sign_in.TEST_SIGN_IN):
        return _show_trial(request, connection, sociallogin)
    sociallogin.state = state or {"process": "login"}
    response: HttpResponse = complete_social_login(request, sociallogin)
    return response


def _posted_request(request: HttpRequest) -> HttpRequest | None:
    """The IdP's POST, kept by allauth's ``acs/`` view in a cookie-backed login session."""
    acs_session = LoginSession(request, "saml_acs_session", "saml-acs-session")
    data = acs_session.store.get("request")
    acs_session.delete()
    if not data:
        return None
    posted: HttpRequest = httpkit.deserialize_request(data, HttpRequest())
    return posted


def _state(
    request: HttpRequest, provider: saml.TwofoldSamlProvider, request_id: str | None
) -> dict[str, Any] | None:
    """The login state this session stashed for the AuthnRequest ``request_id``, used once."""
    if not request_id:
        return None
    try:
        state: dict[str, Any] = provider.unstash_redirect_state(request, request_id)
    except PermissionDenied:
        return None
    return state


def _claimed_request(auth: saml.StrictAuth) -> str | None:
    """The ``InResponseTo`` an unverified response names (python3-saml keeps it for valid ones)."""
    xml = auth.get_last_response_xml()
    if not xml:
        return None
    try:
        claimed = OneLogin_Saml2_XML.to_etree(xml).get("InResponseTo")
    except (ValueError, etree.LxmlError):
        return None
    return str(claimed) if claimed else None


def _reason(auth: saml.StrictAuth) -> str:
    """python3-saml's reason, for the audit log ("Signature validation failed...")."""
    reason = auth.get_last_error_reason() or ", ".join(auth.get_errors()) or "not_authenticated"
    return str(reason)[:200]


def single_logout_not_offered(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """SAML single logout is not offered: no unauthenticated LogoutRequest is processed."""
    raise Http404


def _show_trial(
    request: HttpRequest, connection: SamlConnection, sociallogin: SocialLogin
) -> HttpResponse:
    """An administrator's test sign-in ends here: what it found, and nobody signed in."""
    user = request.user if request.user.is_authenticated else None
    try:
        found = trial_sign_in.result(user, connection, sociallogin)
    except NotAllowed as refused:
        context = {"message": refused.message}
        return render(request, "twofold/forbidden.html", context, status=403)
    return render(request, "sso/test_sign_in.html", {**vars(found)})
