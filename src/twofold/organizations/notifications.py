"""Emails about organizations, sent through allauth's adapter so they share its templates."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.urls import reverse

from twofold.organizations.models import Invitation


def invitation_url(token: str) -> str:
    return settings.TWOFOLD.public_url + reverse("invitation_accept", args=[token])


def send_invitation(invitation: Invitation, token: str) -> None:
    inviter = invitation.invited_by
    # render_mail, not send_mail: send_mail needs the current request, and flows run without one.
    get_adapter().render_mail(
        "organizations/email/invitation",
        invitation.email,
        {
            "organization": invitation.organization,
            "inviter": inviter.get_full_name() if inviter else "An administrator",
            "url": invitation_url(token),
            "expires_at": invitation.expires_at,
            "public_url": settings.TWOFOLD.public_url,
        },
    ).send()
