"""The ``sub`` an application knows a member by (OpenID Connect Core 8).

``public``: the member's id, the same for every application. ``pairwise``: a different,
stable value per application, so that two applications cannot tell they have the same
member: HMAC-SHA256 of the member's id under the application's own random salt, made when the
application is registered, so it outlives any rotation of Twofold's keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twofold.idp.models import Application
    from twofold.users.models import User

PUBLIC = "public"
PAIRWISE = "pairwise"
SUBJECT_TYPES = (PUBLIC, PAIRWISE)


def subject_of(user: User, application: Application) -> str:
    if application.subject_type != PAIRWISE:
        return str(user.pk)
    digest = hmac.new(
        application.pairwise_salt.encode(), str(user.pk).encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
