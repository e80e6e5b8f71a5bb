"""The security events Twofold audits (ASVS 16.3.1-16.3.3), one name each."""

from __future__ import annotations

from django.db import models


class Event(models.TextChoices):
    # Sign-in (with the factor that was used or failed).
    SIGN_IN_SUCCEEDED = "sign_in.succeeded", "Signed in"
    SIGN_IN_FAILED = "sign_in.failed", "Sign-in failed"
    SECOND_FACTOR_FAILED = "second_factor.failed", "Second factor failed"
    SECOND_FACTOR_LOCKED = "second_factor.locked", "Second factor locked"
    SIGNED_OUT = "sign_out", "Signed out"
    SESSION_ENDED = "session.ended", "Session ended (another device signed out)"
    OTHER_SESSIONS_ENDED = "session.others_ended", "All other sessions signed out"
    # Sign-in with Google / Microsoft (SSO).
    SSO_SIGN_IN_REFUSED = "sso.sign_in_refused", "Single sign-on refused"
    SSO_LINKED = "sso.linked", "Identity provider linked"
    SSO_UNLINKED = "sso.unlinked", "Identity provider unlinked"
    SSO_JOINED = "sso.joined", "Joined through single sign-on (email domain)"
    SSO_TEST_SIGN_IN = "sso.test_sign_in", "SAML test sign-in"
    SSO_CONNECTION_CREATED = "sso.connection_created", "SAML connection created"
    SSO_CONNECTION_CHANGED = "sso.connection_changed", "SAML connection changed"
    SSO_CONNECTION_DELETED = "sso.connection_deleted", "SAML connection deleted"
    SSO_SETTINGS_CHANGED = "sso.settings_changed", "Single sign-on settings changed"
    # Applications signing their users in through Twofold (the identity provider).
    APPLICATION_REGISTERED = "application.registered", "Application registered"
    APPLICATION_CHANGED = "application.changed", "Application changed"
    APPLICATION_SECRET_ROTATED = "application.secret_rotated", "Application secret rotated"
    APPLICATION_OLD_SECRET_ENDED = "application.old_secret_ended", "Application's old secret ended"
    APPLICATION_DELETED = "application.deleted", "Application deleted"
    APPLICATION_LOGOUT_FAILED = (
        "application.logout_failed",
        "Back-channel logout to an application failed",
    )
    # Passwords.
    PASSWORD_CHANGED = "password.changed", "Password changed"
    PASSWORD_RESET = "password.reset", "Password reset"
    # Second factors.
    TWO_FACTOR_ENABLED = "two_factor.enabled", "Two-factor authentication enabled"
    TWO_FACTOR_DISABLED = "two_factor.disabled", "Two-factor authentication disabled"
    TWO_FACTOR_RESET = "two_factor.reset", "Two-factor authentication reset by an administrator"
    TWO_FACTOR_POSTPONED = "two_factor.postponed", "Two-factor set-up postponed (grace period)"
    PHONE_CHANGED = "two_factor.phone_changed", "Mobile number changed"
    FACTOR_ADDED = "two_factor.factor_added", "Second factor added"
    FACTOR_REMOVED = "two_factor.factor_removed", "Second factor removed"
    PREFERRED_FACTOR_CHANGED = "two_factor.preferred_changed", "Preferred second factor changed"
    BACKUP_CODE_USED = "backup_codes.used", "Backup code used"
    DEVICE_REMEMBERED = "two_factor.device_remembered", "Device remembered for 30 days"
    DEVICE_FORGOTTEN = "two_factor.device_forgotten", "Remembered device forgotten"
    BACKUP_CODES_REGENERATED = "backup_codes.regenerated", "Backup codes regenerated"
    SMS_SEND_FAILED = "sms.send_failed", "SMS could not be sent"
    # The account and its members.
    POLICY_CHANGED = "policy.changed", "Security policy changed"
    MEMBERS_SIGNED_OUT = "policy.members_signed_out", "Members without 2FA signed out"
    INVITATION_SENT = "invitation.sent", "Invitation sent"
    INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
    INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
    ROLE_CHANGED = "member.role_changed", "Role changed"
    MEMBER_DEACTIVATED = "member.deactivated", "Member deactivated"
    MEMBER_REACTIVATED = "member.reactivated", "Member reactivated"
