"""OpenID Connect Back-Channel Logout 1.0: a signed logout token POSTed to each application that
a session which ended was signed in to.

The token (section 2.4) is a JWT signed with the provider's key (jwcrypto, as the toolkit signs
ID tokens), ``typ`` ``logout+jwt``, with ``iss``, ``aud``, ``iat``, ``exp``, ``jti``, ``sub``,
``sid`` and the back-channel logout event, and no ``nonce``, signed afresh at every try. Each
delivery is a row (:class:`LogoutDelivery`, which keeps the ``sub`` and ``sid``, not a token):
tried once when the session ends, after the transaction commits, then by ``twofold
deliver-logouts`` (run it every minute) after 1, 5, 30 minutes and 2 and 6 hours; after the
last try it is given up. Every failed try is audited (``application.logout_failed``).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

import requests
from django.db import transaction
from jwcrypto import jwt

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.idp.issuer import issuer
from twofold.idp.models import Application, ApplicationSession, LogoutDelivery
from twofold.idp.subject import subject_of

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_LIFETIME = timedelta(minutes=2)
TIMEOUT = 2.0  # seconds: a session's end waits at most this long per application
RETRIES = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
ERROR_LENGTH = 200


def logout_token(application: Application, subject: str, sid: str, now: datetime) -> str:
    """Made at each try, so that a retry's token is as fresh as the first one's (a receiver
    refuses one past its ``exp``)."""
    key = application.jwk_key
    claims = {
        "iss": issuer(),
        "aud": application.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + TOKEN_LIFETIME).timestamp()),
        "jti": secrets.token_urlsafe(16),
        "sub": subject,
        "sid": sid,
        "events": {EVENT: {}},
    }
    header = {"typ": "logout+jwt", "alg": application.algorithm, "kid": key.thumbprint()}
    token = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims))
    token.make_signed_token(key)
    return str(token.serialize())


def queue(signed_in: ApplicationSession, now: datetime) -> LogoutDelivery | None:
    """A delivery for the application, tried once the transaction commits; None when the
    application registered no back-channel logout URI."""
    if not signed_in.application.backchannel_logout_uri:
        return None
    delivery = LogoutDelivery.objects.create(
        application=signed_in.application,
        subject=subject_of(signed_in.user, signed_in.application),
        sid=signed_in.sid,
        next_attempt_at=now,
    )
    transaction.on_commit(lambda: attempt(delivery.pk))
    return delivery


def attempt(delivery_id: int, now: datetime | None = None) -> bool:
    """One try; True once delivered. The try is claimed first, in a short transaction (its next
    retry time set as if it failed), so that no lock is held while the application answers and
    two processes never try the same delivery at once."""
    now = now or clock.now()
    with transaction.atomic():
        delivery = (
            LogoutDelivery.objects.select_for_update(of=("self",))
            .select_related("application", "application__organization")
            .filter(
                pk=delivery_id,
                delivered_at__isnull=True,
                given_up_at__isnull=True,
                next_attempt_at__lte=now,
            )
            .first()
        )
        if delivery is None:
            return False
        delivery.attempts += 1
        last = delivery.attempts > len(RETRIES)
        retry_at = now if last else now + RETRIES[delivery.attempts - 1]
        LogoutDelivery.objects.filter(pk=delivery.pk).update(
            attempts=delivery.attempts, next_attempt_at=retry_at
        )
    token = logout_token(delivery.application, delivery.subject, delivery.sid, clock.now())
    error = _post(delivery.application.backchannel_logout_uri, token)
    if error is None:
        delivered = LogoutDelivery.objects.filter(pk=delivery.pk)
        delivered.update(delivered_at=clock.now(), last_error="")
        return True
    LogoutDelivery.objects.filter(pk=delivery.pk).update(
        last_error=error[:ERROR_LENGTH], given_up_at=clock.now() if last else None
    )
    record(
        Event.APPLICATION_LOGOUT_FAILED,
        organization=delivery.application.organization,
        detail={
            "client_id": delivery.application.client_id,
            "attempt": delivery.attempts,
            "error": error[:ERROR_LENGTH],
            "given_up": last,
        },
    )
    return False


def deliver_due(now: datetime | None = None) -> tuple[int, int]:
    """Every delivery whose retry is due: (delivered, still failing or given up)."""
    now = now or clock.now()
    due = LogoutDelivery.objects.filter(
        delivered_at__isnull=True, given_up_at__isnull=True, next_attempt_at__lte=now
    ).values_list("pk", flat=True)
    delivered = failed = 0
    for delivery_id in list(due):
        if attempt(delivery_id, now):
            delivered += 1
        else:
            failed += 1
    return delivered, failed


def _post(uri: str, token: str) -> str | None:
    """None when the application answered 2xx (section 2.8), else what went wrong."""
    try:
        answer = requests.post(
            uri,
            data={"logout_token": token},
            timeout=TIMEOUT,
            allow_redirects=False,  # section 2.5: no redirects followed
            headers={"Cache-Control": "no-store"},
        )
    except requests.RequestException as failure:
        return f"{type(failure).__name__}: {failure}"
    if 200 <= answer.status_code < 300:
        return None
    return f"HTTP {answer.status_code}"
