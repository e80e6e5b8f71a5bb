"""Every address, in matching order: Twofold's JSON endpoints and pages ahead of allauth's where
they take their place, allauth's, then the rest of Twofold's pages; and the error pages."""

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import include, path, re_path
from django.views import csrf, defaults

from twofold.api import responses, unserved
from twofold.api.headless import urls as headless_urls
from twofold.api.idp import forward_auth as forward_auth_check
from twofold.api.idp import urls as api_idp_urls
from twofold.web import urls as web_urls
from twofold.web.idp import forward_auth as forward_auth_pages
from twofold.web.idp import urls as web_idp_urls

# The identity provider (docs/identity-provider.md): its pages and JSON endpoints in
# django-oauth-toolkit's namespace, which the toolkit reverses.
_IDP = (web_idp_urls.urlpatterns + api_idp_urls.urlpatterns, "oauth2_provider")


# A 404 the served specification knows to leave out (api/spec.py).
_not_mounted = unserved.not_served


# allauth.mfa's own pages and endpoints would activate or remove an authenticator past Twofold's
# flows (backup codes, audit, the account's 2FA policy) and sign in past its login stage: only
# Twofold's are served (web/factors/, web/signin/, api/).
_ALLAUTH_MFA_OWN = [
    re_path(r"^_allauth/(browser|app)/v1/auth/2fa/(authenticate|trust)$", _not_mounted),
    re_path(r"^_allauth/(browser|app)/v1/account/authenticators(/.*)?$", _not_mounted),
    re_path(r"^accounts/2fa/", _not_mounted),
]
# allauth's phone numbers are off (no phone login method): their endpoints answered 500 for any
# method, so they are not served (ASVS 15.2.3: nothing the service does not use).
_ALLAUTH_OFF = [
    re_path(r"^_allauth/(browser|app)/v1/account/phone$", _not_mounted),
    re_path(r"^_allauth/(browser|app)/v1/auth/phone/verify(/resend)?$", _not_mounted),
    # A redirect to the identity provider ends in the browser's session: apps have none and use
    # …/auth/provider/token (allauth's spec documents the redirect for the browser only).
    re_path(r"^_allauth/app/v1/auth/provider/redirect$", _not_mounted),
]

urlpatterns = [
    # Ours first: the same addresses as allauth's spec views, with Twofold's endpoints added.
    path("_allauth/", include(headless_urls)),
    path("", include(web_urls.before_allauth)),
    *_ALLAUTH_MFA_OWN,
    *_ALLAUTH_OFF,
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include("twofold.api.urls")),
    path("oauth/", include(_IDP)),
    # Forward-auth (docs/forward-auth.md): a reverse proxy's check, and its sign-in page.
    path("auth/forward", forward_auth_check.check, name="forward_auth"),
    path("auth/forward/start", forward_auth_pages.start, name="forward_auth_start"),
    path("accounts/", include("allauth.urls")),
    path("", include(web_urls)),
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


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a refused cookie-authenticated write of allauth's browser API
    answers JSON 403 ``csrf_failed``, as Twofold's endpoints do (api/endpoint.py)."""
    if request.path.startswith(_API_PREFIXES):
        return responses.error(403, "csrf_failed", f"CSRF check failed: {reason}")
    return csrf.csrf_failure(request, reason)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(_API_PREFIXES):
        return responses.error(500, "server_error", "Something went wrong on our side.")
    # No request context: whatever failed (the database, say) must not fail the error page too.
    return HttpResponse(loader.render_to_string("twofold/server_error.html"), status=500)


handler400 = bad_request
handler404 = not_found
handler500 = server_error
