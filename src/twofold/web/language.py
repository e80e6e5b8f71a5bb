"""The language of every page, and the switch that changes it (docs/languages.md).

Django's ``LocaleMiddleware`` picks the browser's language first: the switch's cookie, else
Accept-Language. Once the member is known, :class:`MemberLanguageMiddleware` puts their own choice
above it, then the cookie (a choice made on this browser before signing in), then their account's
default. The switch saves the choice with a signed-in member, so it follows them to every browser.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from twofold.organizations.language import choose_language, chosen_language, codes

# A year, as Django's own set_language keeps the choice.
COOKIE_AGE = 365 * 24 * 60 * 60


def forget_language(**_: object) -> None:
    """At the end of each request (``request_finished``, after a streamed body too): the thread
    goes back to the default language. Django's LocaleMiddleware leaves the request's active, and
    what runs next on this thread without a request (a text, an email) must not inherit it."""
    translation.deactivate()


class MemberLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = _member_language(request)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def _member_language(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if user.language in codes():
        return str(user.language)
    if _cookie_language(request) is not None:
        return None  # LocaleMiddleware has activated it already
    return chosen_language(user)


def _cookie_language(request: HttpRequest) -> str | None:
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return language if language in codes() else None


@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """The switch: ``language`` for this browser and, when signed in, for the member."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in codes():
        return response
    if request.user.is_authenticated:
        choose_language(request.user, language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=COOKIE_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response
