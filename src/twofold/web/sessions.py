"""The "Your sessions" page: thin views over ``sessions.member_sessions`` (ASVS 7.4.3, 7.5.2).

Ending sessions needs no re-authentication: it only ever takes access away (docs/security.md).
Every action is a POST with Django's CSRF check; a GET of an action's address shows the list.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache

from twofold.errors import FlowError
from twofold.sessions import member_sessions as sessions
from twofold.web.decorators import post_only, signed_in_user

LIST = "sessions"


def _back(request: HttpRequest) -> HttpResponse:
    """To the page the form was on (the list, or the security settings with the offer)."""
    target = request.POST.get("next")
    # Only paths of this site: an open redirect would help phishing.
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(LIST)


@login_required
@never_cache
def session_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    listed = sessions.list_sessions(user, request.session)
    context = {
        "sessions": listed,
        "others": sum(1 for s in listed if not s.current),
        "offer": sessions.pending_offer(user, request.session),
    }
    return render(request, "twofold/sessions.html", context)


@login_required
@post_only(LIST)
def end_session(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        ended = sessions.end_session(signed_in_user(request), pk, request.session)
    except FlowError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            gettext("%(device)s (%(ip)s) was signed out.")
            % {"device": ended.device, "ip": ended.ip},
        )
    return _back(request)


@login_required
@post_only(LIST)
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    ended = sessions.end_other_sessions(signed_in_user(request), request.session)
    if ended:
        messages.success(
            request,
            ngettext(
                "%(ended)s other session signed out.", "%(ended)s other sessions signed out.", ended
            )
            % {"ended": ended},
        )
    else:
        messages.info(request, gettext("You had no other sessions."))
    return _back(request)


@login_required
@post_only(LIST)
def keep_other_sessions(request: HttpRequest) -> HttpResponse:
    sessions.decline_offer(request.session)
    messages.info(request, gettext("Your other sessions stay signed in."))
    return _back(request)
