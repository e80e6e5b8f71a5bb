"""Organization flows: sign-up, invitations, roles, deactivation. Plain functions, no HTTP.

Every flow that acts on another member takes the acting membership and looks the target up
inside the actor's organization, so an administrator of one account cannot reach another's.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from allauth.account.models import EmailAddress
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, FlowError, Gone, NotFound
from twofold.organizations import language, notifications, unverified
from twofold.organizations.models import (
    Invitation,
    Membership,
    Organization,
    Role,
    require_administrator,
)
from twofold.sessions.member_sessions import end_all_sessions
from twofold.users.models import User
from twofold.users.passwords import check_context_words

INVITATION_LIFETIME = timedelta(days=7)
# Where a phone number is read when neither the account nor the browser says (the model's default).
DEFAULT_COUNTRY = "CH"


def create_organization(user: User, name: str, *, default_country: str | None = None) -> Membership:
    """Create an organization whose first administrator is ``user`` (sign-up); its phone
    numbers' country is the founder's browser region when known (``region_of``)."""
    organization = Organization.objects.create(
        name=name.strip(), default_country=default_country or DEFAULT_COUNTRY
    )
    return Membership.objects.create(user=user, organization=organization, role=Role.ADMINISTRATOR)


def get_member(actor: Membership, membership_id: int) -> Membership:
    """A membership of the actor's own organization; others do not exist for the actor."""
    try:
        return (
            Membership.objects.of(actor.organization)
            .select_related("user", "organization")
            .get(pk=membership_id)
        )
    except Membership.DoesNotExist:
        raise NotFound(gettext("There is no such member in this account.")) from None


# --- Invitations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # only ever in the email; the database keeps its hash


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_member(
    actor: Membership, email: str, role: str = Role.MEMBER, *, now: datetime | None = None
) -> IssuedInvitation:
    """Invite ``email`` into the actor's organization and email them a 7-day, single-use link."""
    require_administrator(actor)
    now = now or clock.now()
    email = email.strip().lower()
    if role not in Role.values:
        raise FlowError(gettext("Choose a role: administrator or member."), param="role")
    # A sign-up that never proved the address does not hold it (organizations/unverified.py).
    if unverified.address_taken(email):
        raise Conflict(
            gettext("This email address already has a Twofold account and cannot be invited."),
            code="email_taken",
            param="email",
        )
    token = secrets.token_urlsafe(32)  # 256 bits from the CSPRNG (ASVS 6.4.1)
    with transaction.atomic():
        # A new invitation replaces any pending one for the same address in this account.
        Invitation.objects.of(actor.organization).pending().filter(email=email).update(
            revoked_at=now
        )
        invitation = Invitation.objects.create(
            organization=actor.organization,
            email=email,
            role=role,
            token_hash=_hash_token(token),
            invited_by=actor.user,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    notifications.send_invitation(invitation, token)
    detail = {"email": email, "role": role}  # an address is no secret; the token stays out
    record(Event.INVITATION_SENT, actor=actor.user, organization=actor.organization, detail=detail)
    return IssuedInvitation(invitation, token)


def list_invitations(actor: Membership) -> list[Invitation]:
    require_administrator(actor)
    return list(Invitation.objects.of(actor.organization).pending().order_by("-created_at"))


def revoke_invitation(
    actor: Membership, invitation_id: int, *, now: datetime | None = None
) -> None:
    require_administrator(actor)
    pending = Invitation.objects.of(actor.organization).pending().filter(pk=invitation_id)
    invitation = pending.first()
    if invitation is None or not pending.update(revoked_at=now or clock.now()):
        raise NotFound(gettext("There is no such pending invitation in this account."))
    detail = {"email": invitation.email}
    record(
        Event.INVITATION_REVOKED, actor=actor.user, organization=actor.organization, detail=detail
    )


def find_invitation(token: str, *, now: datetime | None = None) -> Invitation:
    """The open invitation behind ``token``; raise :class:`Gone` when used, revoked or expired."""
    now = now or clock.now()
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=_hash_token(token))
        .first()
    )
    if invitation is None:
        raise NotFound(gettext("This invitation link is not valid."), code="invitation_invalid")
    if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= now:
        raise Gone(
            gettext(
                "This invitation has expired or was already used. "
                "Ask your administrator for a new one."
            ),
            code="invitation_expired",
        )
    return invitation


def accept_invitation(
    token: str, password: str, name: str = "", *, now: datetime | None = None
) -> User:
    """Create the invited user with their chosen password. Single use, even when raced.

    The link proves the address: a sign-up that never proved it gives way (deleted with its
    empty account, organizations/unverified.py). An account that did prove it, or signed in,
    keeps it: 409 ``email_taken``, and nothing changes (the invitation stays open).
    """
    now = now or clock.now()
    invitation = find_invitation(token, now=now)
    candidate = User(email=invitation.email, name=name)
    try:
        password_validation.validate_password(password, candidate)
        check_context_words(password, candidate, extra=[invitation.organization.name])
    except ValidationError as error:
        raise FlowError(
            " ".join(error.messages), code="password_invalid", param="password"
        ) from None
    with transaction.atomic():
        # The conditional update is the single-use guarantee: of two racing accepts, one wins.
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(accepted_at=now)
        if not claimed:
            raise Gone(gettext("This invitation was already used."), code="invitation_expired")
        replaced = unverified.release_address(invitation.email)
        user = _create_invited_user(invitation, password, name)
    detail: dict[str, object] = {"email": invitation.email, "role": invitation.role}
    if replaced:
        # An unproven sign-up held the address and was deleted: the account's log says so.
        detail["replaced_unverified_sign_up"] = True
    record(
        Event.INVITATION_ACCEPTED, subject=user, organization=invitation.organization, detail=detail
    )
    return user


def _create_invited_user(invitation: Invitation, password: str, name: str) -> User:
    """The invited user, their membership and their verified address; 409 ``email_taken`` when
    the address has an account, also one created at this moment by a racing request (the
    unique email refuses it: the caller's transaction, claim included, is rolled back)."""
    taken = Conflict(
        gettext("This email address already has a Twofold account."), code="email_taken"
    )
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise taken
    try:
        user = User.objects.create_user(invitation.email, password, name=name.strip())
    except IntegrityError:
        raise taken from None
    Membership.objects.create(user=user, organization=invitation.organization, role=invitation.role)
    # Following the emailed link proves the address.
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


# --- Roles and deactivation ---------------------------------------------------------------------


def _ensure_another_administrator(target: Membership) -> None:
    if not target.is_administrator or not target.user.is_active:
        return
    others = Membership.objects.of(target.organization).administrators().exclude(pk=target.pk)
    if not others.exists():
        raise Conflict(
            gettext(
                "An account needs at least one administrator. "
                "Make another member an administrator first."
            ),
            code="last_administrator",
        )


def _lock_as_administrator(actor: Membership) -> None:
    """Serialize administrator changes of one organization, and re-check the actor under the lock.

    Without it, two administrators demoting each other at the same moment could both see
    "another administrator exists" and leave the account with none (PostgreSQL READ COMMITTED).
    """
    Organization.objects.select_for_update().filter(pk=actor.organization_id).first()
    actor.refresh_from_db(fields=["role"])
    actor.user.refresh_from_db(fields=["is_active"])
    require_administrator(actor)


def change_role(actor: Membership, membership_id: int, role: str) -> Membership:
    require_administrator(actor)
    if role not in Role.values:
        raise FlowError(gettext("Choose a role: administrator or member."), param="role")
    with transaction.atomic():
        _lock_as_administrator(actor)
        target = get_member(actor, membership_id)
        if role != Role.ADMINISTRATOR:
            _ensure_another_administrator(target)
        previous, target.role = target.role, role
        target.save(update_fields=["role"])
    if previous != role:
        detail = {"from": previous, "to": role}
        record(Event.ROLE_CHANGED, subject=target.user, actor=actor.user, detail=detail)
        notifications.send_role_changed(target)
    return target


def deactivate_member(actor: Membership, membership_id: int) -> Membership:
    """Block the member from signing in and end all their sessions at once, on every worker."""
    require_administrator(actor)
    with transaction.atomic():
        _lock_as_administrator(actor)
        target = get_member(actor, membership_id)
        if target.pk == actor.pk:
            raise Conflict(
                gettext("You cannot deactivate yourself."), code="cannot_deactivate_self"
            )
        _ensure_another_administrator(target)
        was_active, target.user.is_active = target.user.is_active, False
        target.user.save(update_fields=["is_active"])
    end_all_sessions(target.user)
    if was_active:
        record(Event.MEMBER_DEACTIVATED, subject=target.user, actor=actor.user)
        notifications.send_deactivated(target)
    return target


def reactivate_member(actor: Membership, membership_id: int) -> Membership:
    require_administrator(actor)
    target = get_member(actor, membership_id)
    was_active, target.user.is_active = target.user.is_active, True
    target.user.save(update_fields=["is_active"])
    if not was_active:
        record(Event.MEMBER_REACTIVATED, subject=target.user, actor=actor.user)
        notifications.send_reactivated(target)
    return target


def rename_organization(actor: Membership, name: str) -> Organization:
    require_administrator(actor)
    name = name.strip()
    if not name:
        raise FlowError(gettext("Enter a name for the account."), param="name")
    organization = actor.organization
    organization.name = name[:100]
    organization.save(update_fields=["name"])
    return organization


def set_default_country(actor: Membership, default_country: str) -> Organization:
    """The country preselected, and read for a national number, when members enter a mobile
    number; "" keeps it as it is."""
    require_administrator(actor)
    organization = actor.organization
    if not default_country or default_country == organization.default_country:
        return organization
    if default_country not in phonenumbers.SUPPORTED_REGIONS:
        raise FlowError(gettext("Choose a country from the list."), param="default_country")
    organization.default_country = default_country
    organization.save(update_fields=["default_country"])
    return organization


def region_of(accept_language: str) -> str | None:
    """The region of the browser's first language with one ("de-CH,de;q=0.9" -> "CH")."""
    for entry in accept_language.split(","):
        tag = entry.split(";")[0].strip().replace("_", "-")
        region = tag.split("-")[1].upper() if tag.count("-") >= 1 else ""
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
    return None


def set_default_language(actor: Membership, default_language: str) -> Organization:
    """The language of members who chose none; "" leaves it to each browser."""
    require_administrator(actor)
    if default_language and default_language not in language.codes():
        raise FlowError(gettext("Choose one of the languages offered."), param="default_language")
    organization = actor.organization
    organization.default_language = default_language
    organization.save(update_fields=["default_language"])
    return organization
