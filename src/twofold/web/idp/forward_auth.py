"""``/auth/forward/start``: where a reverse proxy sends the browser that its forward-auth check
turned away (docs/forward-auth.md). Signed out: Twofold's sign-in (with its second factor and
the account's rules); signed in below what the check asks: the second-factor
re-authentication (``aal=2``) or the password again (``max_age``); then back to ``rd``.

``rd`` must be an absolute http(s) address on a host of TWOFOLD_FORWARD_AUTH_HOSTS
(idp/forward_auth.py::return_url); anything else is a 400 page, never a redirect (an open
redirect would lend Twofold's name to phishing; ASVS 5.0 3.7.2).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from twofold.factors import member_factors
from twofold.idp import forward_auth
from twofold.idp.step_up import Missing
from twofold.organizations.models import Membership
from twofold.web.decorators import signed_in_user

# What is missing -> where the member proves it; both pages come back to ``next``.
_REAUTHENTICATION = {
    Missing.PASSWORD: "account_reauthenticate",
    Missing.SECOND_FACTOR: "second_factor_reauthenticate",
}


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    try:
        asked = forward_auth.required(request.GET)
    except forward_auth.InvalidRequest as error:
        return _refused(request, 400, "This sign-in link is not valid", str(error))
    rd = request.GET.get("rd")
    back = forward_auth.return_url(rd, settings.TWOFOLD.forward_auth_hosts) if rd else None
    if rd and back is None:
        return _refused(request, 400, "Twofold does not send you there", _not_returned_to(rd))
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _signed_in(request, asked, back or reverse("home"))


def _signed_in(request: HttpRequest, asked: forward_auth.Required, back: str) -> HttpResponse:
    user = signed_in_user(request)
    membership = Membership.objects.filter(user=user).first()
    proof = forward_auth.proof(request.session, user.pk)
    if membership is None or (
        forward_auth.verdict(asked, proof, membership.organization_id)
        is forward_auth.Verdict.FORBIDDEN
    ):
        why = "This application is only for the members of another account."
        return _refused(request, 403, "Not for your account", why)
    missing = forward_auth.shortfall(asked, proof)
    if missing is Missing.SECOND_FACTOR and not member_factors.has_second_factor(user):
        why = "This application needs two-factor authentication. Turn it on, then open it again."
        link = {"url": reverse("security_settings"), "label": "Turn on two-factor authentication"}
        return _refused(request, 403, "Two-factor authentication needed", why, link)
    if missing is not None:
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse(_REAUTHENTICATION[missing])}?{query}")
    return redirect(back)


def _not_returned_to(rd: str) -> str:
    try:
        host = urlsplit(rd).netloc
    except ValueError:
        host = ""
    if not host:
        return "The address to go back to is not a full address of an application."
    return (
        f"{host} is not an application Twofold signs you in to. If it should be, its operator "
        "adds it to TWOFOLD_FORWARD_AUTH_HOSTS."
    )


def _refused(
    request: HttpRequest,
    status: int,
    title: str,
    message: str,
    link: dict[str, str] | None = None,
) -> HttpResponse:
    context = {"title": title, "message": message, "link": link}
    return render(request, "idp/forward_auth_refused.html", context, status=status)
