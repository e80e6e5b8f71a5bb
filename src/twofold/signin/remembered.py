""" "Remember this device for 30 days": a browser whose next sign-ins skip the second step.

Ticked on the second-factor step (page and API), once the code is right: the browser gets a
random token in a cookie (``__Host-`` in production, HttpOnly, Secure, SameSite=Lax, like the
session cookie); the database keeps its SHA-256, the member, when, until when, a summary of the
user agent and the last use. At the next sign-in from that browser the password is still asked;
the second step is skipped while the token is the member's own, unexpired, the member's factors
are as they were when it was ticked (added, removed, number changed, reset by an administrator:
the device no longer counts) and the account still allows it. Members list and forget their
remembered browsers on their settings page and in the API.

Assurance: a remembered browser is no authenticator of NIST SP 800-63B-4 (it is a bearer secret
the browser holds, like a session cookie, and "a session SHALL NOT be treated as a higher AAL than
its authentication event"). Such a sign-in is therefore aal1, AMR ``pwd`` + ``remembered``: the
account's mandatory 2FA stays satisfied (the member has a second factor, proven in this browser
within 30 days), and every change that needs a recent second factor (a new phone number) asks for
one again.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import NotFound
from twofold.factors.policy import remembered_devices_allowed
from twofold.factors.sms.models import SmsFactor
from twofold.sessions import devices
from twofold.signin.models import RememberedDevice
from twofold.users.models import User

REMEMBER_FOR = timedelta(days=30)
# __Host- wherever Twofold is served over HTTPS (settings.py), even when the session cookie is
# shared with sibling hosts (TWOFOLD_COOKIE_DOMAIN): this one never leaves Twofold's host.
COOKIE_NAME = "__Host-twofold-device" if settings.SESSION_COOKIE_SECURE else "twofold-device"
# allauth records the method; ``sessions/assurance.py`` names it ``remembered`` (no RFC 8176 value).
METHOD = "remembered_device"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def factors_fingerprint(user: User) -> str:
    """A keyed hash of the member's second factors: any added, removed, replaced or number
    changed gives another one. Backup codes are left out: they stay whatever the factors."""
    keys = sorted(
        f"a{pk}:{kind}"
        for pk, kind in Authenticator.objects.filter(user=user)
        .exclude(type=Authenticator.Type.RECOVERY_CODES)
        .values_list("pk", "type")
    )
    keys += [
        f"s{pk}:{phone}"
        for pk, phone in SmsFactor.objects.filter(user=user).values_list("pk", "phone")
    ]
    return salted_hmac("twofold.remembered-device", "|".join(keys)).hexdigest()


def remember(
    request: HttpRequest, user: User, response: HttpResponseBase, *, now: datetime | None = None
) -> RememberedDevice | None:
    """After a right second factor: remember this browser (the cookie goes on ``response``).
    None when the account does not allow it."""
    if not remembered_devices_allowed(user):
        return None
    now = now or clock.now()
    token = secrets.token_urlsafe(32)  # 256 bits from the CSPRNG
    device = RememberedDevice.objects.create(
        user=user,
        token_hash=_hash(token),
        factors=factors_fingerprint(user),
        device=devices.describe(request.headers.get("User-Agent", ""))[:100],
        created_at=now,
        expires_at=now + REMEMBER_FOR,
    )
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(REMEMBER_FOR.total_seconds()),
        path="/",
        secure=settings.SESSION_COOKIE_SECURE or COOKIE_NAME.startswith("__Host-"),
        httponly=True,
        samesite="Lax",
    )
    record(Event.DEVICE_REMEMBERED, subject=user, detail={"device": device.device})
    return device


def recognizes(request: HttpRequest, user: User, *, now: datetime | None = None) -> bool:
    """This browser is remembered for ``user``: the second step is skipped, the sign-in is
    recorded (AMR ``remembered``, aal1). A device that no longer counts is forgotten."""
    token = request.COOKIES.get(COOKIE_NAME)
    if not token:
        return False
    device = RememberedDevice.objects.filter(user=user, token_hash=_hash(token)).first()
    if device is None:  # another member's, forgotten, or made up
        return False
    now = now or clock.now()
    reason = _void_reason(device, user, now)
    if reason:
        device.delete()
        record(
            Event.DEVICE_FORGOTTEN, subject=user, detail={"device": device.device, "reason": reason}
        )
        return False
    RememberedDevice.objects.filter(pk=device.pk).update(last_used_at=now)
    record_authentication(request, user, METHOD)
    return True


def _void_reason(device: RememberedDevice, user: User, now: datetime) -> str | None:
    if device.expires_at <= now:
        return "expired"
    if not remembered_devices_allowed(user):
        return "account_turned_off"
    if device.factors != factors_fingerprint(user):
        return "factors_changed"
    return None


def listed(user: User, *, now: datetime | None = None) -> list[RememberedDevice]:
    """The member's remembered browsers that still could count, newest first."""
    now = now or clock.now()
    return list(
        RememberedDevice.objects.filter(user=user, expires_at__gt=now).order_by("-created_at")
    )


def is_current(request: HttpRequest, device: RememberedDevice) -> bool:
    token = request.COOKIES.get(COOKIE_NAME)
    return token is not None and device.token_hash == _hash(token)


def forget(user: User, device_id: int) -> None:
    """Forget one of the member's remembered browsers; another member's does not exist."""
    device = RememberedDevice.objects.filter(user=user, pk=device_id).first()
    if device is None or not RememberedDevice.objects.filter(pk=device.pk).delete()[0]:
        raise NotFound(gettext("There is no such remembered device."), code="device_not_found")
    record(
        Event.DEVICE_FORGOTTEN, subject=user, detail={"device": device.device, "reason": "member"}
    )


def forget_all(user: User) -> int:
    """Forget every remembered browser of the member; how many there were."""
    deleted = RememberedDevice.objects.filter(user=user).delete()[0]
    if deleted:
        record(
            Event.DEVICE_FORGOTTEN, subject=user, detail={"devices": deleted, "reason": "member"}
        )
    return deleted


def purge_expired(*, now: datetime, dry_run: bool = False) -> int:
    """Delete remembered browsers past their expiry (they never count again; data minimisation):
    how many went, or with ``dry_run`` would go. ``twofold purge-devices``, run daily."""
    expired = RememberedDevice.objects.filter(expires_at__lte=now)
    if dry_run:
        return expired.count()
    return int(expired.delete()[0])
