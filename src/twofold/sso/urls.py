"""Routed before allauth's URLs: the OIDC callback and the SAML ACS with Twofold's checks, and
"Sign in with SSO"."""

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

from twofold.sso import acs, oidc, views


def not_offered(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """SAML single logout is not offered: no unauthenticated LogoutRequest is processed."""
    raise Http404


oidc_urlpatterns = [
    path("<str:provider_id>/login/callback/", oidc.callback, name="twofold_oidc_callback"),
]

saml_urlpatterns = [
    path("<str:organization_slug>/acs/finish/", acs.finish, name="twofold_saml_finish_acs"),
    path("<str:organization_slug>/sls/", not_offered, name="twofold_saml_sls"),
]

sso_urlpatterns = [
    path("", views.sign_in_with_sso, name="sso_sign_in"),
    path("required/", views.sso_required, name="sso_required"),
]
