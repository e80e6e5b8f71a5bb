"""The page decorators: who may see a page, how fresh their authentication must be, which methods.

Freshness is the rule of ``sessions/freshness.py`` (and ``factors/binding.py`` for binding a
factor), the same the JSON API applies; here a stale session is led to the matching
re-authentication page, which brings the member back to the page after.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast
from urllib.parse import urlencode

from allauth.account.decorators import reauthentication_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from twofold.factors import binding
from twofold.organizations.models import Membership
from twofold.sessions.freshness import recently_authenticated
from twofold.users.models import User

View = Callable[..., HttpResponse]


def signed_in_user(request: HttpRequest) -> User:
    """The signed-in member of a page behind one of these decorators (or ``login_required``)."""
    return cast(User, request.user)


def signed_in_membership(request: HttpRequest) -> Membership:
    return signed_in_user(request).membership


def administrator_required(view: View) -> View:
    """Signed in, and an administrator of the account: otherwise a 403 page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not signed_in_membership(request).is_administrator:
            return render(request, "twofold/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _stale(request: HttpRequest) -> bool:
    return not recently_authenticated(request.session, signed_in_user(request))


def fresh(view: View) -> View:
    """Signed in, and authenticated within the freshness window (ASVS 7.5.1); otherwise
    allauth's re-authentication page, which resumes this request after."""
    # allauth alone counts only explicit re-authentications; the shared rule (the API's too)
    # also counts the sign-in itself.
    return login_required(reauthentication_required(view, enabled=_stale))


def binding_confirmation_url(request: HttpRequest) -> str | None:
    """Where a member who has a factor confirms it before binding another (aal2); None when the
    session is fresh enough to bind (``factors/binding.py``)."""
    if binding.fresh_to_bind(request.session, signed_in_user(request)):
        return None
    query = urlencode({"next": request.get_full_path()})
    return f"{reverse('second_factor_reauthenticate')}?{query}"


def fresh_to_bind(view: View) -> View:
    """Pages that bind a new factor: :func:`fresh`, then, for a member who has a factor, the
    second-factor re-authentication page first."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        confirm = binding_confirmation_url(request)
        return redirect(confirm) if confirm else view(request, *args, **kwargs)

    return fresh(checked)


def post_only(fallback: str) -> Callable[[View], View]:
    """An action (POST); a GET, from a bookmark or a reload, just shows ``fallback``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return redirect(fallback)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
