from allauth.headless.constants import Client
from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import include, path, re_path
from django.views import defaults

from twofold.api import responses, spec
from twofold.signin import api as signin_api
from twofold.signin import webauthn_api
from twofold.sso import urls as sso_urls
from twofold.web import sessions as web_sessions


def _not_mounted(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


# allauth.mfa's own pages and endpoints would activate or remove an authenticator past Twofold's
# flows (backup codes, audit, the account's 2FA policy) and sign in past its login stage: only
# Twofold's are served (factors/totp/, signin/).
_ALLAUTH_MFA_OWN = [
    re_path(r"^_allauth/(browser|app)/v1/auth/2fa/(authenticate|trust)$", _not_mounted),
    re_path(r"^_allauth/(browser|app)/v1/account/authenticators(/.*)?$", _not_mounted),
]

urlpatterns = [
    # Ours first: the same addresses as allauth's spec views, with Twofold's endpoints added.
    path("_allauth/openapi.yaml", spec.openapi_yaml, name="twofold_openapi_yaml"),
    path("_allauth/openapi.json", spec.openapi_json, name="twofold_openapi_json"),
    path("_allauth/browser/v1/", include(signin_api.urlpatterns_for(Client.BROWSER))),
    path("_allauth/app/v1/", include(signin_api.urlpatterns_for(Client.APP))),
    path("_allauth/browser/v1/", include(webauthn_api.urlpatterns_for(Client.BROWSER))),
    path("_allauth/app/v1/", include(webauthn_api.urlpatterns_for(Client.APP))),
    *_ALLAUTH_MFA_OWN,
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include("twofold.api.urls")),
    path("accounts/2fa/", include("twofold.signin.urls")),
    re_path(r"^accounts/2fa/", _not_mounted),  # allauth.mfa's own pages: see _ALLAUTH_MFA_OWN
    path("settings/security/2fa/", include("twofold.factors.sms.urls")),
    path("settings/security/2fa/", include("twofold.factors.urls")),
    # Before allauth's: the OIDC callback and the SAML ACS with Twofold's checks.
    path("accounts/oidc/", include(sso_urls.oidc_urlpatterns)),
    path("accounts/saml/", include(sso_urls.saml_urlpatterns)),
    path("accounts/sso/", include(sso_urls.sso_urlpatterns)),
    # Twofold's session list in place of allauth's (which ends sessions without the audit trail).
    path("accounts/sessions/", web_sessions.session_list),
    path("accounts/", include("allauth.urls")),
    path("account/audit/", include("twofold.audit.urls")),
    path("", include("twofold.web.urls")),
]

_API_PREFIXES = ("/api/", "/_allauth/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(_API_PREFIXES):
        return responses.error(404, "not_found", "There is nothing at this address.")
    return render(request, "twofold/not_found.html", status=404)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (a host not allowed, a malformed request) in the API's shape on its paths."""
    if request.path.startswith(_API_PREFIXES):
        if isinstance(exception, DisallowedHost):
            return responses.error(
                400, "host_not_allowed", "This server does not answer for that host name."
            )
        return responses.error(400, "bad_request", "The request could not be understood.")
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(_API_PREFIXES):
        return responses.error(500, "server_error", "Something went wrong on our side.")
    # No request context: whatever failed (the database, say) must not fail the error page too.
    return HttpResponse(loader.render_to_string("twofold/server_error.html"), status=500)


handler400 = bad_request
handler404 = not_found
handler500 = server_error
