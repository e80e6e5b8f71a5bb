"""Tokens end with the Twofold session they came from.

A code redeemed for a session (``sid``) makes an :class:`ApplicationSession`: the application's
refresh-token family, tied to that session. When the session ends, by any way
(sessions/ending.py: sign-out, a timeout seen at a request, ended from the session list, all of
a member's at a deactivation, a 2FA reset or an administrator's sign-out), every family of that
``sid`` (of every ``sid`` of the member, when all their sessions end) is revoked with its access
tokens, and each application with a back-channel logout URI
is sent a logout token (idp/backchannel.py). A password change ends the member's other sessions
(Django's session hash): their applications' tokens end with them. A session that simply
expires unseen cannot be announced: its families stop refreshing at the session's absolute end
(``session_expires_at``), and their access tokens live 10 minutes at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from allauth.account import signals as account_signals
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from twofold import clock
from twofold.idp import backchannel
from twofold.idp.assurance import SID_KEY, Proof
from twofold.idp.models import Application, ApplicationSession
from twofold.sessions import ending
from twofold.users.models import User

_ABSOLUTE = timedelta(seconds=settings.SESSION_COOKIE_AGE)


def opened(proof: Proof, user: User, application: Application) -> ApplicationSession:
    """A code is issued for the session of ``proof``: what it opens belongs to that session."""
    return ApplicationSession.objects.create(
        sid=proof.sid,
        user=user,
        application=application,
        amr=proof.amr,
        acr=proof.acr,
        auth_time=proof.auth_time,
        session_expires_at=proof.session_ends_at or clock.now() + _ABSOLUTE,
    )


def redeemed(application_session_id: int, token_family: Any) -> None:
    """The code was redeemed: its refresh-token family belongs to the session now."""
    ApplicationSession.objects.filter(pk=application_session_id).update(token_family=token_family)


def still_open(application_session_id: int | None) -> bool:
    """Whether the session a code was issued for has not ended (a code from before this
    bookkeeping, without one, is judged by its own lifetime alone)."""
    if application_session_id is None:
        return True
    return ApplicationSession.objects.filter(
        pk=application_session_id, ended_at__isnull=True
    ).exists()


def live(token_family: Any, now: datetime | None = None) -> ApplicationSession | None:
    """The session a refresh-token family belongs to, while it lasts; None once it ended."""
    return (
        ApplicationSession.objects.filter(
            token_family=token_family,
            ended_at__isnull=True,
            session_expires_at__gt=now or clock.now(),
        )
        .select_related("application")
        .first()
    )


def end_sid(sid: str, now: datetime | None = None) -> int:
    """End every application's tokens of the session ``sid``; how many were signed in."""
    return end(ApplicationSession.objects.filter(sid=sid, ended_at__isnull=True), now)


def end(signed_in: Iterable[ApplicationSession], now: datetime | None = None) -> int:
    now = now or clock.now()
    ended = 0
    with transaction.atomic():
        for each in signed_in:
            claimed = ApplicationSession.objects.filter(pk=each.pk, ended_at__isnull=True).update(
                ended_at=now
            )
            if not claimed:  # announced twice (sessions/ending.py): once is enough
                continue
            _revoke_family(each.token_family)
            backchannel.queue(each, now)
            ended += 1
    return ended


def _revoke_family(token_family: Any) -> None:
    if token_family is None:
        return
    refresh_tokens = get_refresh_token_model()
    access_ids = refresh_tokens.objects.filter(token_family=token_family).values("access_token_id")
    refresh_tokens.revoke_family(token_family)
    get_access_token_model().objects.filter(pk__in=access_ids).delete()


# --- The receivers -------------------------------------------------------------------------------


def _session_ending(sender: Any, user: User, data: Mapping[str, Any], **kwargs: Any) -> None:
    sid = data.get(SID_KEY)
    if isinstance(sid, str):
        end_sid(sid)


def _signed_out_everywhere(sender: Any, user: User, **kwargs: Any) -> None:
    end(list(ApplicationSession.objects.filter(user=user, ended_at__isnull=True)))


def _password_changed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    """The member's other sessions no longer sign in: their applications' tokens end."""
    session = getattr(request, "session", None)
    current = session.get(SID_KEY) if session is not None else None
    others = ApplicationSession.objects.filter(user=user, ended_at__isnull=True)
    if current:
        others = others.exclude(sid=current)
    end(list(others))


def connect() -> None:
    ending.session_ending.connect(_session_ending, dispatch_uid="idp.session_ending")
    ending.signed_out_everywhere.connect(_signed_out_everywhere, dispatch_uid="idp.everywhere")
    for signal in (account_signals.password_changed, account_signals.password_reset):
        signal.connect(_password_changed, dispatch_uid=f"idp.password.{id(signal)}")
    account_signals.password_set.connect(_password_changed, dispatch_uid="idp.password_set")
