"""Security keys and passkeys (W3C Web Authentication Level 2). Plain functions; no HTTP.

Registering: ``begin_registration`` returns the ``PublicKeyCredentialCreationOptions`` for
``navigator.credentials.create()``; ``complete_registration`` checks the browser's answer with
python-fido2 (challenge, origin, RP id hash, "none" or verified attestation: WebAuthn 7.1). A
member who has another factor has the key added at once; a member without 2FA then saves the one
set of backup codes and activates, as with an authenticator app. Keys are stored in allauth.mfa's
``Authenticator`` (type ``webauthn``, allauth's data layout), several per member, each named.

Using: ``begin_assertion`` then ``verify`` (a second factor; failures count in the shared
lockout) or ``passkey_sign_in`` (a discoverable credential with user verification: two factors,
WebAuthn 6.2.3 "multi-factor capable"). Each challenge is used once: it leaves the session
before the answer is checked. The signature counter must grow when the key keeps one (WebAuthn
6.1.1: a counter that does not grow signals a cloned authenticator).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.account.utils import url_str_to_user_pk
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy
from fido2.server import Fido2Server
from fido2.utils import websafe_decode
from fido2.webauthn import (
    AttestedCredentialData,
    AuthenticationResponse,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record, record_surviving_rollback
from twofold.errors import Conflict, FlowError
from twofold.factors import (
    activation,
    lockout,
    member_factors,
    methods,
    notifications,
    policy,
    removal,
)
from twofold.factors.backup_codes import flows as backup_codes
from twofold.users.models import User

SESSION_KEY = "twofold_webauthn"  # the open challenge (one at a time per session)
PENDING_KEY = "twofold_webauthn_pending"  # a first key, checked, waiting for backup codes
WEBAUTHN = Authenticator.Type.WEBAUTHN
MAX_KEYS = 10
NAME_MAX_LENGTH = 60
INVALID = gettext_lazy("The security key's answer could not be checked. Try again.")


@dataclass(frozen=True)
class RelyingParty:
    """Who the keys are bound to. ``id`` is the site's host name (allauth's rule: the Host
    without port); browsers accept it on https, or on http://localhost (a secure context), and
    refuse an IP address as RP id."""

    id: str
    name: str = "Twofold"

    def server(self) -> Fido2Server:
        return Fido2Server(PublicKeyCredentialRpEntity(id=self.id, name=self.name))


def relying_party(host: str) -> RelyingParty:
    """The RP of a request's (ALLOWED_HOSTS-checked) Host header, as allauth computes it."""
    return RelyingParty(id=host.rpartition(":")[0] if host.count(":") == 1 else host)


@dataclass(frozen=True)
class Key:
    id: int
    name: str
    passkey: bool
    created_at: datetime
    last_used_at: datetime | None


# --- Registering -------------------------------------------------------------------------------


def begin_registration(
    user: User, session: SessionBase, rp: RelyingParty, *, passkey: bool
) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()``. ``passkey``: a discoverable credential
    with user verification (signs in on its own); else a security key as second factor."""
    policy.require_allowed(user, methods.WEBAUTHN)  # the account's method policy
    if Authenticator.objects.filter(user=user, type=WEBAUTHN).count() >= MAX_KEYS:
        raise Conflict(
            gettext("You can register at most %(MAX_KEYS)s keys.") % {"MAX_KEYS": MAX_KEYS},
            code="webauthn_too_many",
        )
    entity = get_adapter().get_public_key_credential_user_entity(user)
    options, state = rp.server().register_begin(
        user=PublicKeyCredentialUserEntity(**entity),
        credentials=_credentials(user),  # excludeCredentials: no key registered twice
        resident_key_requirement=ResidentKeyRequirement.REQUIRED
        if passkey
        else ResidentKeyRequirement.DISCOURAGED,
        user_verification=UserVerificationRequirement.REQUIRED
        if passkey
        else UserVerificationRequirement.PREFERRED,
        extensions={"credProps": True},
    )
    _open(session, "register", user, state, passkey=passkey)
    return _json(dict(options))


def complete_registration(
    user: User,
    session: SessionBase,
    rp: RelyingParty,
    name: str,
    credential: dict[str, Any],
    *,
    now: datetime | None = None,
) -> Authenticator | None:
    """The browser's answer to :func:`begin_registration`. Returns the key when it is active
    now (beside another factor); None when backup codes and activation follow (a first factor)."""
    now = now or clock.now()
    state = _take(session, "register", user)
    try:
        response = RegistrationResponse.from_dict(credential)
        rp.server().register_complete(state["fido2"], response)
    except (ValueError, TypeError, KeyError):
        raise FlowError(INVALID, code="webauthn_invalid", param="credential") from None
    data = {
        "name": _name(name),
        "credential": credential,
        "passkey": bool(state.get("passkey")),
        "sign_count": response.response.attestation_object.auth_data.counter,
    }
    if member_factors.has_second_factor(user):
        created = _create(user, data, now)
        notifications.send_factor_added(user, methods.LABELS[methods.WEBAUTHN])
        record(Event.FACTOR_ADDED, subject=user, factor="webauthn")
        return created
    # The id marks its backup codes: one set per set-up.
    session[PENDING_KEY] = {"user": user.pk, "data": data, "id": activation.new_setup_id()}
    return None


def pending(user: User, session: SessionBase) -> dict[str, Any] | None:
    state = session.get(PENDING_KEY)
    return state["data"] if state and state.get("user") == user.pk else None


def show_backup_codes(
    user: User, session: SessionBase, *, now: datetime | None = None
) -> list[str]:
    """The backup codes of a first key: the same set at every call until activation."""
    return activation.show_backup_codes(
        user,
        session,
        session_key=PENDING_KEY,
        require_pending=lambda: _require_pending(user, session),
        now=now,
    )


def activate(
    user: User, session: SessionBase, *, saved_backup_codes: bool, now: datetime | None = None
) -> Authenticator:
    """The last step of a first factor: only now is two-factor authentication on."""
    at = now or clock.now()
    return activation.activate(
        user,
        session,
        factor="webauthn",
        session_key=PENDING_KEY,
        saved_backup_codes=saved_backup_codes,
        require_pending=lambda: _require_pending(user, session),
        create=lambda data: _create(user, data, at),
    )


def cancel(user: User, session: SessionBase) -> None:
    """Abandon a first key's set-up: everything is as before it started."""
    if pending(user, session) is not None:
        backup_codes.BackupCode.objects.filter(user=user, active=False).delete()
    session.pop(PENDING_KEY, None)
    session.pop(SESSION_KEY, None)


# --- Listing, renaming, removing ---------------------------------------------------------------


def keys(user: User) -> list[Key]:
    found = Authenticator.objects.filter(user=user, type=WEBAUTHN).order_by("created_at", "pk")
    return [_key(a) for a in found]


def rename(user: User, key_id: int, name: str) -> Key:
    found = _own(user, key_id)
    found.data = {**found.data, "name": _name(name)}
    found.save(update_fields=["data"])
    return _key(found)


def remove(user: User, key_id: int) -> None:
    """Remove one key; the last key as removing the factor (as the last factor, turning 2FA
    off, refused when the account requires it). Counted and deleted under the member's lock
    (``removal.factors_locked``): two keys removed at once never both count as "not the last"."""
    with removal.factors_locked(user):
        found = _own(user, key_id)
        if Authenticator.objects.filter(user=user, type=WEBAUTHN).count() == 1:
            removed = removal.remove_locked(user, methods.WEBAUTHN)
        elif Authenticator.objects.filter(pk=found.pk).delete()[0]:
            label = f"{methods.LABELS[methods.WEBAUTHN]} “{found.data.get('name', '')}”"
            removed = removal.Removed(Event.FACTOR_REMOVED, "webauthn", label)
        else:
            removed = removal.NOTHING
    removed.announce(user)


# --- Using a key -------------------------------------------------------------------------------


def begin_assertion(
    session: SessionBase, rp: RelyingParty, user: User | None = None
) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()``: the member's keys (second factor), or any
    discoverable credential with user verification (``user`` None: passkey sign-in)."""
    uv = UserVerificationRequirement.PREFERRED if user else UserVerificationRequirement.REQUIRED
    options, state = rp.server().authenticate_begin(
        credentials=_credentials(user) if user else [], user_verification=uv
    )
    _open(session, "assert", user, state)
    return _json(dict(options))


def verify(
    user: User,
    session: SessionBase,
    rp: RelyingParty,
    credential: dict[str, Any],
    *,
    now: datetime | None = None,
) -> Authenticator:
    """A second factor: a signature of one of the member's keys over this session's challenge.
    Failures count in the consecutive second-factor failures of every factor (``lockout``)."""
    now = now or clock.now()
    had_failures = lockout.check_not_locked(user.pk, now)
    try:
        state = _take(session, "assert", user)
        found = _check_assertion(user, state, rp, credential, now)
    except FlowError:
        _failed(user, now)
        raise
    lockout.record_success(user.pk, had_failures=had_failures)
    return found


def passkey_sign_in(
    session: SessionBase,
    rp: RelyingParty,
    credential: dict[str, Any],
    *,
    now: datetime | None = None,
) -> Authenticator:
    """A passkey: the member is the one its user handle names, and user verification (PIN or
    biometrics) happened on the device: possession and a second factor at once (aal2)."""
    now = now or clock.now()
    state = _take(session, "assert", None)
    user = _user_of(credential)
    had_failures = lockout.check_not_locked(user.pk, now)
    try:
        found = _check_assertion(user, state, rp, credential, now)
    except FlowError:
        _failed(user, now)
        raise
    lockout.record_success(user.pk, had_failures=had_failures)
    return found


def _check_assertion(
    user: User, state: dict[str, Any], rp: RelyingParty, credential: dict[str, Any], now: datetime
) -> Authenticator:
    try:
        response = AuthenticationResponse.from_dict(credential)
        used = rp.server().authenticate_complete(state["fido2"], _credentials(user), response)
    except (ValueError, TypeError, KeyError):
        # Wrong challenge, origin or RP id, a bad signature, an unknown key, or no user
        # verification where it was required (fido2 checks each: WebAuthn 7.2).
        raise FlowError(INVALID, code="webauthn_invalid", param="credential") from None
    with transaction.atomic():
        found = _by_credential_id(user, used.credential_id)
        counter = response.response.authenticator_data.counter
        stored = int(found.data.get("sign_count", 0))
        if (counter or stored) and counter <= stored:
            raise FlowError(INVALID, code="webauthn_invalid", param="credential")
        found.data = {**found.data, "sign_count": counter}
        found.last_used_at = now
        found.save(update_fields=["data", "last_used_at"])
    return found


def _failed(user: User, now: datetime) -> None:
    record_surviving_rollback(Event.SECOND_FACTOR_FAILED, subject=user, factor="webauthn")
    if lockout.record_failure(user.pk, now):
        notifications.send_second_factor_locked(user)


def _user_of(credential: dict[str, Any]) -> User:
    try:
        handle = credential["response"]["userHandle"]
        user = User.objects.filter(pk=url_str_to_user_pk(websafe_decode(handle).decode())).first()
    except (KeyError, TypeError, ValueError):
        user = None
    if user is None or not user.is_active:
        raise FlowError(INVALID, code="webauthn_invalid", param="credential")
    return user


# --- Helpers -----------------------------------------------------------------------------------


def _open(session: SessionBase, purpose: str, user: User | None, state: Any, **extra: Any) -> None:
    session[SESSION_KEY] = {
        "purpose": purpose,
        "user": user.pk if user else None,
        "fido2": _json(dict(state)),
        **extra,
    }


def _take(session: SessionBase, purpose: str, user: User | None) -> dict[str, Any]:
    """The open challenge, removed from the session: each one is answered at most once."""
    state = session.pop(SESSION_KEY, None)
    if (
        not state
        or state.get("purpose") != purpose
        or (user is not None and state.get("user") != user.pk)
    ):
        raise FlowError(
            gettext("Start again: ask your security key once more."),
            code="webauthn_missing",
            param="credential",
        )
    return dict(state)


def _credentials(user: User) -> list[AttestedCredentialData]:
    found = Authenticator.objects.filter(user=user, type=WEBAUTHN)
    return [_credential_data(a) for a in found]


def _credential_data(found: Authenticator) -> AttestedCredentialData:
    data = RegistrationResponse.from_dict(found.data["credential"])
    attested = data.response.attestation_object.auth_data.credential_data
    assert attested is not None  # registration always carries it (checked then)
    return attested


def _by_credential_id(user: User, credential_id: bytes) -> Authenticator:
    for found in Authenticator.objects.select_for_update().filter(user=user, type=WEBAUTHN):
        if _credential_data(found).credential_id == credential_id:
            return found
    raise FlowError(INVALID, code="webauthn_invalid", param="credential")


def _create(user: User, data: dict[str, Any], now: datetime) -> Authenticator:
    with transaction.atomic():
        created = Authenticator.objects.create(user=user, type=WEBAUTHN, data=data, created_at=now)
        activation.void_sms_enrollment(user)  # a half-done number must not replace codes
    return created


def _own(user: User, key_id: int) -> Authenticator:
    found = Authenticator.objects.filter(user=user, type=WEBAUTHN, pk=key_id).first()
    if found is None:  # another member's key is not found either (no enumeration)
        raise Conflict(gettext("There is no such key."), code="webauthn_key_missing")
    return found


def _key(found: Authenticator) -> Key:
    return Key(
        id=found.pk,
        name=str(found.data.get("name", "")),
        passkey=bool(found.data.get("passkey")),
        created_at=found.created_at,
        last_used_at=found.last_used_at,
    )


def _name(name: str) -> str:
    cleaned = " ".join(name.split())[:NAME_MAX_LENGTH]
    return cleaned or "Security key"


def _require_pending(user: User, session: SessionBase) -> dict[str, Any]:
    data = pending(user, session)
    if data is None:
        raise FlowError(gettext("Register your key first."), code="enrollment_missing")
    return data


def _json(value: Any) -> Any:
    # fido2's options and state hold str enums; the session and responses want plain JSON.
    return json.loads(json.dumps(value))
