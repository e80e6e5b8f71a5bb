"""Every address, in matching order: Twofold's JSON endpoints and pages ahead of allauth's where
they take their place, allauth's, then the rest of Twofold's pages; and the error pages."""

from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import include, path, re_path
from django.views import defaults

from twofold.api import responses
from twofold.api.headless import urls as headless_urls
from twofold.web import urls as web_urls


def _not_mounted(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


# allauth.mfa's own pages and endpoints would activate or remove an authenticator past Twofold's
# flows (backup codes, audit, the account's 2FA policy) and sign in past its login stage: only
# Twofold's are served (web/factors/, web/signin/, api/).
_ALLAUTH_MFA_OWN = [
    re_path(r"^_allauth/(browser|app)/v1/auth/2fa/(authenticate|trust)$", _not_mounted),
    re_path(r"^_allauth/(browser|app)/v1/account/authenticators(/.*)?$", _not_mounted),
    re_path(r"^accounts/2fa/", _not_mounted),
]

urlpatterns = [
    # Ours first: the same addresses as allauth's spec views, with Twofold's endpoints added.
    path("_allauth/", include(headless_urls)),
    path("", include(web_urls.before_allauth)),
    *_ALLAUTH_MFA_OWN,
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include("twofold.api.urls")),
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


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(_API_PREFIXES):
        return responses.error(500, "server_error", "Something went wrong on our side.")
    # No request context: whatever failed (the database, say) must not fail the error page too.
    return HttpResponse(loader.render_to_string("twofold/server_error.html"), status=500)


handler400 = bad_request
handler404 = not_found
handler500 = server_error
