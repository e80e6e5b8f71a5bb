"""An administrator's test sign-in through a SAML connection ("Account & Security").

It runs the whole round trip with every check of a real sign-in, then shows what the identity
provider asserted (subject, email, AuthnContextClassRef), which member that subject is linked to,
and what the connection's 2FA policy would decide, and signs nobody in: the administrator's own
session is untouched.
"""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.organizations.models import membership_of
from twofold.sso import saml
from twofold.sso.models import SamlConnection

TEST_SIGN_IN = "twofold_test_sign_in"
NOT_YOURS = "Only an administrator of this account can run its test sign-in."


def start(request: HttpRequest, connection: SamlConnection) -> HttpResponse:
    """Redirect the administrator to the identity provider, marked as a test."""
    provider = saml.TwofoldSamlProvider(request, app=saml.app_of(connection))
    marker: dict[str, Any] = {TEST_SIGN_IN: True}
    response: HttpResponse = provider.redirect(request, AuthProcess.LOGIN, **marker)
    return response


def show_test_sign_in(
    request: HttpRequest, connection: SamlConnection, sociallogin: SocialLogin
) -> HttpResponse:
    from twofold.sso import policy  # policy reads saml; this module is imported by the ACS

    user = request.user if request.user.is_authenticated else None
    membership = membership_of(user) if user is not None else None
    if (
        membership is None
        or membership.organization_id != connection.organization_id
        or not membership.is_administrator
    ):
        return render(request, "twofold/forbidden.html", {"message": NOT_YOURS}, status=403)
    account = sociallogin.account
    linked = (
        SocialAccount.objects.filter(provider=account.provider, uid=account.uid)
        .select_related("user")
        .first()
    )
    verdict = policy.verdict_for(sociallogin, connection.organization)
    facts = (account.extra_data or {}).get(saml.SAML_DATA, {})
    record(
        Event.SSO_TEST_SIGN_IN,
        actor=membership.user,
        organization=connection.organization,
        factor="sso",
        detail={"connection": connection.name, "outcome": verdict.outcome.value},
    )
    context = {
        "connection": connection,
        "name_id": account.uid,
        "email": sociallogin.email_addresses[0].email if sociallogin.email_addresses else "",
        "authn_contexts": facts.get("authn_contexts", []),
        "attributes": sorted(facts.get("attributes", {}).items()),
        "linked_to": linked.user if linked else None,
        "verdict": verdict,
    }
    return render(request, "sso/test_sign_in.html", context)
