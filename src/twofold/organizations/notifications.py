"""Emails about organizations, sent through allauth's adapter so they share its templates.

Members are told of every change an administrator makes to their access (ASVS 6.3.7).
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from twofold.organizations.language import in_language_of
from twofold.organizations.models import Invitation, Membership


def invitation_url(token: str) -> str:
    return settings.TWOFOLD.public_url + reverse("invitation_accept", args=[token])


def send_invitation(invitation: Invitation, token: str) -> None:
    inviter = invitation.invited_by
    # render_mail, not send_mail: send_mail needs the current request, and flows run without one.
    # Not a member yet: in the account's default language, else the inviting administrator's.
    with in_language_of(None, invitation.organization):
        message = get_adapter().render_mail(
            "organizations/email/invitation",
            invitation.email,
            {
                "organization": invitation.organization,
                "inviter": inviter.get_full_name() if inviter else gettext("An administrator"),
                "url": invitation_url(token),
                "expires_at": invitation.expires_at,
                "public_url": settings.TWOFOLD.public_url,
            },
        )
    message.send()


def _send_to_member(membership: Membership, template: str) -> None:
    with in_language_of(membership.user):
        message = get_adapter().render_mail(
            f"organizations/email/{template}",
            membership.user.email,
            {
                "user": membership.user,
                "organization": membership.organization,
                "role": membership.get_role_display(),
                "public_url": settings.TWOFOLD.public_url,
            },
        )
    message.send()


def send_role_changed(membership: Membership) -> None:
    _send_to_member(membership, "role_changed")


def send_deactivated(membership: Membership) -> None:
    # Deactivated members cannot sign in to see it; the email is how they learn of it.
    _send_to_member(membership, "deactivated")


def send_reactivated(membership: Membership) -> None:
    _send_to_member(membership, "reactivated")
