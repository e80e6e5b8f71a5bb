"""An administrator's test sign-in through a SAML connection ("Account & Security").

It runs the whole round trip with every check of a real sign-in, then shows what the identity
provider asserted (subject, email, AuthnContextClassRef), which member that subject is linked to,
and what the connection's 2FA policy would decide, and signs nobody in: the administrator's own
session is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import NotAllowed
from twofold.organizations.models import membership_of
from twofold.sso import policy, saml
from twofold.sso.models import SamlConnection
from twofold.users.models import User

TEST_SIGN_IN = "twofold_test_sign_in"
NOT_YOURS = gettext_lazy("Only an administrator of this account can run its test sign-in.")


def start(request: HttpRequest, connection: SamlConnection) -> HttpResponse:
    """Redirect the administrator to the identity provider, marked as a test."""
    provider = saml.TwofoldSamlProvider(request, app=saml.app_of(connection))
    marker: dict[str, Any] = {TEST_SIGN_IN: True}
    response: HttpResponse = provider.redirect(request, AuthProcess.LOGIN, **marker)
    return response


@dataclass(frozen=True)
class TrialResult:
    """What the identity provider asserted, whom it links to, and what the policy would decide."""

    connection: SamlConnection
    name_id: str
    email: str
    authn_contexts: list[str]
    attributes: list[tuple[str, Any]]
    linked_to: User | None
    verdict: policy.Verdict


def result(user: User | None, connection: SamlConnection, sociallogin: SocialLogin) -> TrialResult:
    """The test sign-in's findings, audited; only for an administrator of the connection's
    account (``NotAllowed`` otherwise). Nobody is signed in."""
    membership = membership_of(user) if user is not None else None
    if (
        membership is None
        or membership.organization_id != connection.organization_id
        or not membership.is_administrator
    ):
        raise NotAllowed(NOT_YOURS)
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
    return TrialResult(
        connection=connection,
        name_id=account.uid,
        email=sociallogin.email_addresses[0].email if sociallogin.email_addresses else "",
        authn_contexts=facts.get("authn_contexts", []),
        attributes=sorted(facts.get("attributes", {}).items()),
        linked_to=linked.user if linked else None,
        verdict=verdict,
    )
