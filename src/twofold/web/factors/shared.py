"""What every factor's settings pages share: where they lead back to, and what follows a change."""

from __future__ import annotations

from django.http import HttpRequest

from twofold.sessions import member_sessions
from twofold.web.decorators import signed_in_user

# "Password and Two-Factor Authentication": where the factor pages lead back to.
SETTINGS = "security_settings"


def factors_changed(request: HttpRequest) -> None:
    """Offer to sign out the member's other sessions, on the settings page (ASVS 7.4.3)."""
    member_sessions.offer_to_end_other_sessions(signed_in_user(request), request.session)
