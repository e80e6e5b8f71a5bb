"""The security events Twofold audits (ASVS 16.3.1-16.3.3), one name each."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy


class Event(models.TextChoices):
    # Sign-in (with the factor that was used or failed).
    SIGN_IN_SUCCEEDED = "sign_in.succeeded", gettext_lazy("Signed in")
    SIGN_IN_FAILED = "sign_in.failed", gettext_lazy("Sign-in failed")
    SECOND_FACTOR_FAILED = "second_factor.failed", gettext_lazy("Second factor failed")
    SECOND_FACTOR_LOCKED = "second_factor.locked", gettext_lazy("Second factor locked")
    SIGNED_OUT = "sign_out", gettext_lazy("Signed out")
    SESSION_ENDED = "session.ended", gettext_lazy("Session ended (another device signed out)")
    OTHER_SESSIONS_ENDED = "session.others_ended", gettext_lazy("All other sessions signed out")
    # Sign-in with Google / Microsoft (SSO).
    SSO_SIGN_IN_REFUSED = "sso.sign_in_refused", gettext_lazy("Single sign-on refused")
    SSO_LINKED = "sso.linked", gettext_lazy("Identity provider linked")
    SSO_UNLINKED = "sso.unlinked", gettext_lazy("Identity provider unlinked")
    SSO_JOINED = "sso.joined", gettext_lazy("Joined through single sign-on (email domain)")
    SSO_TEST_SIGN_IN = "sso.test_sign_in", gettext_lazy("SAML test sign-in")
    SSO_CONNECTION_CREATED = "sso.connection_created", gettext_lazy("SAML connection created")
    SSO_CONNECTION_CHANGED = "sso.connection_changed", gettext_lazy("SAML connection changed")
    SSO_CONNECTION_DELETED = "sso.connection_deleted", gettext_lazy("SAML connection deleted")
    SSO_SETTINGS_CHANGED = "sso.settings_changed", gettext_lazy("Single sign-on settings changed")
    # Applications signing their users in through Twofold (the identity provider).
    APPLICATION_REGISTERED = "application.registered", gettext_lazy("Application registered")
    APPLICATION_CHANGED = "application.changed", gettext_lazy("Application changed")
    APPLICATION_SECRET_ROTATED = (
        "application.secret_rotated",
        gettext_lazy("Application secret rotated"),
    )
    APPLICATION_OLD_SECRET_ENDED = (
        "application.old_secret_ended",
        gettext_lazy("Application's old secret ended"),
    )
    APPLICATION_DELETED = "application.deleted", gettext_lazy("Application deleted")
    APPLICATION_LOGOUT_FAILED = (
        "application.logout_failed",
        gettext_lazy("Back-channel logout to an application failed"),
    )
    # Passwords.
    PASSWORD_CHANGED = "password.changed", gettext_lazy("Password changed")
    PASSWORD_RESET = "password.reset", gettext_lazy("Password reset")
    # Second factors.
    TWO_FACTOR_ENABLED = "two_factor.enabled", gettext_lazy("Two-factor authentication enabled")
    TWO_FACTOR_DISABLED = "two_factor.disabled", gettext_lazy("Two-factor authentication disabled")
    TWO_FACTOR_RESET = (
        "two_factor.reset",
        gettext_lazy("Two-factor authentication reset by an administrator"),
    )
    TWO_FACTOR_POSTPONED = (
        "two_factor.postponed",
        gettext_lazy("Two-factor set-up postponed (grace period)"),
    )
    PHONE_CHANGED = "two_factor.phone_changed", gettext_lazy("Mobile number changed")
    FACTOR_ADDED = "two_factor.factor_added", gettext_lazy("Second factor added")
    FACTOR_REMOVED = "two_factor.factor_removed", gettext_lazy("Second factor removed")
    PREFERRED_FACTOR_CHANGED = (
        "two_factor.preferred_changed",
        gettext_lazy("Preferred second factor changed"),
    )
    BACKUP_CODE_USED = "backup_codes.used", gettext_lazy("Backup code used")
    DEVICE_REMEMBERED = (
        "two_factor.device_remembered",
        gettext_lazy("Device remembered for 30 days"),
    )
    DEVICE_FORGOTTEN = "two_factor.device_forgotten", gettext_lazy("Remembered device forgotten")
    BACKUP_CODES_REGENERATED = "backup_codes.regenerated", gettext_lazy("Backup codes regenerated")
    SMS_SEND_FAILED = "sms.send_failed", gettext_lazy("SMS could not be sent")
    # The account and its members.
    POLICY_CHANGED = "policy.changed", gettext_lazy("Security policy changed")
    MEMBERS_SIGNED_OUT = "policy.members_signed_out", gettext_lazy("Members without 2FA signed out")
    INVITATION_SENT = "invitation.sent", gettext_lazy("Invitation sent")
    INVITATION_ACCEPTED = "invitation.accepted", gettext_lazy("Invitation accepted")
    INVITATION_REVOKED = "invitation.revoked", gettext_lazy("Invitation revoked")
    ROLE_CHANGED = "member.role_changed", gettext_lazy("Role changed")
    MEMBER_DEACTIVATED = "member.deactivated", gettext_lazy("Member deactivated")
    MEMBER_REACTIVATED = "member.reactivated", gettext_lazy("Member reactivated")
