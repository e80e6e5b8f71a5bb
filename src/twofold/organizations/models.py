"""Organizations ("accounts" on the pages), their memberships and invitations.

Tenancy is enforced where data is read: organization data is always fetched through the
``of(organization)`` query helpers, never by bare primary key (DESIGN.md, STYLE.md rule 5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_lazy

from twofold.errors import NotAllowed

if TYPE_CHECKING:
    from twofold.users.models import User


# The longest grace period an account may give its members to set up 2FA.
MAX_GRACE_DAYS = 90


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", gettext_lazy("Administrator")
    MEMBER = "member", gettext_lazy("Member")


class Organization(models.Model):
    """A company using Twofold. Called an "account" in the user interface."""

    name = models.CharField(max_length=100)
    default_country = models.CharField(
        max_length=2, default="CH", help_text="ISO 3166 country preselected for phone numbers"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Mandatory 2FA ("Account & Security"); factors/policy.py reads and changes it.
    require_two_factor = models.BooleanField(
        default=False, help_text="every member must use two-factor authentication (aal2)"
    )
    two_factor_grace_days = models.PositiveSmallIntegerField(
        default=0, help_text="days members may postpone enrolling, counted from required_since"
    )
    two_factor_required_since = models.DateTimeField(
        null=True, blank=True, help_text="when 2FA became required; cleared when no longer"
    )
    # The second factors members may use ("Account & Security"); empty: every method, including
    # one added to factors/methods.py later. factors/policy.py reads and changes it.
    allowed_two_factor_methods = models.JSONField(
        default=list, blank=True, help_text="registry method names members may use; [] = all"
    )
    # "Remember this device for 30 days" on the second-factor step (signin/remembered.py).
    allow_remembered_devices = models.BooleanField(
        default=True, help_text="members may skip the second step on a remembered browser"
    )
    default_language = models.CharField(
        max_length=8,
        blank=True,
        default="",
        db_default="",  # the release before inserts accounts without it (a rolling upgrade)
        help_text="members' language unless they chose one; empty: the browser's",
    )

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet["Membership"]):
    def of(self, organization: Organization) -> MembershipQuerySet:
        return self.filter(organization=organization)

    def administrators(self) -> MembershipQuerySet:
        return self.filter(role=Role.ADMINISTRATOR, user__is_active=True)


class Membership(models.Model):
    """A user's place in their one organization."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.role} of {self.organization})"

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def of(self, organization: Organization) -> InvitationQuerySet:
        return self.filter(organization=organization)

    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """An emailed, single-use link (valid 7 days) that lets a person join an organization."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    # SHA-256 of a 256-bit random token: a plain hash suffices above 112 bits (ASVS 6.5.2).
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["organization", "email"])]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"


def membership_of(user: User) -> Membership | None:
    """The user's membership, or None for a user without one (never the case after sign-up)."""
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


# ``user.membership``'s cache (Django's reverse one-to-one accessor).
_MEMBERSHIP = Membership.user.field.remote_field


def membership_loaded(user: User) -> bool:
    """``user.membership`` was read already: asking :func:`membership_of` costs no query."""
    return _MEMBERSHIP.is_cached(user)


def keep_membership(user: User, loaded: User) -> None:
    """Let ``user.membership`` answer from ``loaded``, the same user read with
    ``select_related("membership__organization")``: no query at its first use."""
    _keep(user, membership_of(loaded))


def membership_with_organization(user: User) -> Membership | None:
    """:func:`membership_of` with its organization loaded: one query when not read yet."""
    if not membership_loaded(user):
        _keep(user, Membership.objects.select_related("organization").filter(user=user).first())
    return membership_of(user)


def _keep(user: User, membership: Membership | None) -> None:
    _MEMBERSHIP.set_cached_value(user, membership)
    if membership is not None:
        Membership.user.field.set_cached_value(membership, user)


def require_administrator(actor: Membership) -> None:
    if not actor.is_administrator or not actor.user.is_active:
        raise NotAllowed(gettext("Only administrators of this account can do this."))
