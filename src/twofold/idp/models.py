"""The provider's applications and grants: django-oauth-toolkit's, swapped for Twofold's own
(``OAUTH2_PROVIDER_APPLICATION_MODEL``, ``OAUTH2_PROVIDER_GRANT_MODEL``) so that an application
belongs to an account and a grant carries the assurance of the session that asked for it."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication, AbstractGrant


def _new_salt() -> str:
    return secrets.token_urlsafe(32)


class Application(AbstractApplication):
    """An application that signs its users in through Twofold.

    ``organization`` is the account whose members may sign in to it; None for an instance-wide
    application that the operator registered for the host product itself.
    """

    organization: models.ForeignKey[Any, Any] = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="applications",
    )
    # The scopes the application may ask for, space-separated (idp/applications.py::SCOPES).
    allowed_scopes: models.TextField[str, str] = models.TextField(default="openid profile email")
    # After a rotation, the secret before it (hashed, as ``client_secret``) is still accepted
    # until ``previous_secret_expires_at`` (idp/applications.py::SECRET_GRACE).
    previous_client_secret: models.CharField[str, str] = models.CharField(
        max_length=255, blank=True
    )
    previous_secret_expires_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    # Where a logout token is POSTed when a session signed in to the application ends
    # (OpenID Connect Back-Channel Logout 1.0); empty: the application is not told.
    backchannel_logout_uri: models.CharField[str, str] = models.CharField(
        max_length=500, blank=True
    )
    # "public" or "pairwise" (idp/subject.py); the salt of pairwise subjects, made once.
    subject_type: models.CharField[str, str] = models.CharField(max_length=8, default="public")
    pairwise_salt: models.CharField[str, str] = models.CharField(
        max_length=64, default=_new_salt, editable=False
    )

    # The default manager, named for the type checker: the toolkit ships no type hints.
    _default_manager: ClassVar[models.Manager[Application]]

    class Meta(AbstractApplication.Meta):
        pass

    def redirect_uri_allowed(self, uri: str) -> bool:
        """Exact string comparison (ASVS 10.4.1, RFC 9700 2.1). The toolkit lets a loopback
        redirect URI take any port, as RFC 8252 7.3 allows native apps (public clients) only:
        a confidential client's URI must match port and all."""
        if self.client_type == self.CLIENT_CONFIDENTIAL:
            return uri in self.redirect_uris.split()
        return bool(super().redirect_uri_allowed(uri))


class Grant(AbstractGrant):
    """An authorization code, with what the session proved when it was issued: the ID token is
    made at the token endpoint, without the browser's session, from these."""

    auth_time: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    amr: models.JSONField[Any, Any] = models.JSONField(default=list)
    acr: models.CharField[str, str] = models.CharField(max_length=32, blank=True)
    # When the code was redeemed: kept (not deleted, as the toolkit does) so that a second
    # redemption is recognised and revokes what the first one got (RFC 6749 4.1.2).
    redeemed_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    access_token: models.ForeignKey[Any, Any] = models.ForeignKey(
        settings.OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The session's id for applications (OIDC ``sid``).
    sid: models.CharField[str, str] = models.CharField(max_length=32, blank=True)
    # The session's sign-in to the application the code opens (idp/session_end.py).
    application_session: models.ForeignKey[Any, Any] = models.ForeignKey(
        "ApplicationSession", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    _default_manager: ClassVar[models.Manager[Grant]]

    class Meta(AbstractGrant.Meta):
        pass


class ApplicationSession(models.Model):
    """One Twofold session signed in to one application: made when a code is redeemed, it ties
    the application's tokens (one refresh-token family) to the session's ``sid`` and keeps the
    proof of the sign-in for the ID tokens of later refreshes (OIDC Core 12.2). When the Twofold
    session ends, the tokens end and the application is told (idp/session_end.py)."""

    sid: models.CharField[str, str] = models.CharField(max_length=32, db_index=True)
    user: models.ForeignKey[Any, Any] = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    application: models.ForeignKey[Any, Any] = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="sessions"
    )
    token_family: models.UUIDField[Any, Any] = models.UUIDField(null=True, db_index=True)
    amr: models.JSONField[Any, Any] = models.JSONField(default=list)
    acr: models.CharField[str, str] = models.CharField(max_length=32, blank=True)
    auth_time: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    # The Twofold session's absolute end: no refresh after it, even if no request ended it.
    session_expires_at: models.DateTimeField[Any, Any] = models.DateTimeField()
    created_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now_add=True)
    ended_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"session {self.sid} at application {self.application_id}"


class LogoutDelivery(models.Model):
    """A back-channel logout token to deliver to an application (OpenID Connect Back-Channel
    Logout 1.0), kept until it is delivered or given up after its last retry."""

    application: models.ForeignKey[Any, Any] = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="+"
    )
    # What the logout token says, signed afresh at each try (idp/backchannel.py).
    subject: models.CharField[str, str] = models.CharField(max_length=64)
    sid: models.CharField[str, str] = models.CharField(max_length=32)
    created_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now_add=True)
    attempts: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        default=0
    )
    next_attempt_at: models.DateTimeField[Any, Any] = models.DateTimeField(db_index=True)
    delivered_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    given_up_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    last_error: models.CharField[str, str] = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"logout delivery {self.pk} to application {self.application_id}"
