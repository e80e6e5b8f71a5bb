"""Twofold's JSON API under /api/v1/: the account, members, the 2FA policy, SSO, applications,
the audit log, sessions and devices, and each second factor (``api/factors/``)."""

from django.urls import path

from twofold.api import account, audit, members, remembered_devices, security, sessions
from twofold.api.factors import backup_codes, sms, status, totp, webauthn
from twofold.api.idp import applications
from twofold.api.sso import settings as sso
from twofold.api.sso import sign_in as sso_sign_in

urlpatterns = [
    path("me", account.me, name="api_me"),
    path("me/preferences", account.preferences, name="api_me_preferences"),
    path("auth/sso", sso_sign_in.discover, name="api_sso_discover"),
    path("organization", account.organization, name="api_organization"),
    path("organization/security", security.security_policy, name="api_security_policy"),
    path(
        "organization/security/sign-out-members-without-2fa",
        security.sign_out_members_without_two_factor,
        name="api_sign_out_members_without_two_factor",
    ),
    path("organization/sso", sso.sso_settings, name="api_sso_settings"),
    path("organization/sso/connections", sso.connections, name="api_sso_connections"),
    path(
        "organization/sso/connections/<int:connection_id>",
        sso.connection,
        name="api_sso_connection",
    ),
    path("organization/sso/domains", sso.domains, name="api_sso_domains"),
    path("organization/sso/domains/<int:domain_id>", sso.domain, name="api_sso_domain"),
    path(
        "organization/sso/domains/<int:domain_id>/verify",
        sso.domain_verification_check,
        name="api_sso_domain_verify",
    ),
    path("organization/applications", applications.applications, name="api_applications"),
    path(
        "organization/applications/<int:application_id>",
        applications.application,
        name="api_application",
    ),
    path(
        "organization/applications/<int:application_id>/secret",
        applications.secret,
        name="api_application_secret",
    ),
    path("members", members.members, name="api_members"),
    path("members/<int:membership_id>", members.member, name="api_member"),
    path(
        "members/<int:membership_id>/deactivate",
        members.deactivate_member,
        name="api_member_deactivate",
    ),
    path(
        "members/<int:membership_id>/reactivate",
        members.reactivate_member,
        name="api_member_reactivate",
    ),
    path(
        "members/<int:membership_id>/reset-two-factor",
        members.reset_member_two_factor,
        name="api_member_reset_two_factor",
    ),
    path("invitations", members.invitations, name="api_invitations"),
    path("invitations/<int:invitation_id>", members.invitation, name="api_invitation"),
    path("invitations/accept", members.accept_invitation, name="api_invitation_accept"),
    path("audit-events", audit.audit_events, name="api_audit_events"),
    path("audit-events.csv", audit.audit_events_csv, name="api_audit_events_csv"),
    path("me/security-events", audit.own_security_events, name="api_own_security_events"),
    path("sessions", sessions.session_list, name="api_sessions"),
    path(
        "remembered-devices",
        remembered_devices.remembered_devices,
        name="api_remembered_devices",
    ),
    path(
        "remembered-devices/<int:device_id>",
        remembered_devices.remembered_device,
        name="api_remembered_device",
    ),
    path("sessions/others", sessions.other_sessions, name="api_other_sessions"),
    path("sessions/<int:session_id>", sessions.session, name="api_session"),
    path("two-factor", status.two_factor, name="api_two_factor"),
    path("two-factor/sms", sms.sms_start, name="api_two_factor_sms"),
    path("two-factor/totp", totp.totp, name="api_two_factor_totp"),
    path("two-factor/totp/confirm", totp.totp_confirm, name="api_two_factor_totp_confirm"),
    path(
        "two-factor/totp/backup-codes",
        totp.totp_backup_codes,
        name="api_two_factor_totp_backup_codes",
    ),
    path(
        "two-factor/totp/activate",
        totp.totp_activate,
        name="api_two_factor_totp_activate",
    ),
    path("two-factor/totp/cancel", totp.totp_cancel, name="api_two_factor_totp_cancel"),
    path("two-factor/preferred", status.preferred, name="api_two_factor_preferred"),
    path("two-factor/webauthn", webauthn.keys, name="api_webauthn"),
    path("two-factor/webauthn/complete", webauthn.complete, name="api_webauthn_complete"),
    path(
        "two-factor/webauthn/backup-codes",
        webauthn.backup_codes,
        name="api_webauthn_backup_codes",
    ),
    path("two-factor/webauthn/activate", webauthn.activate, name="api_webauthn_activate"),
    path("two-factor/webauthn/cancel", webauthn.cancel, name="api_webauthn_cancel"),
    path("two-factor/webauthn/<int:key_id>", webauthn.key, name="api_webauthn_key"),
    path("two-factor/sms/resend", sms.sms_resend, name="api_two_factor_sms_resend"),
    path("two-factor/sms/confirm", sms.sms_confirm, name="api_two_factor_sms_confirm"),
    path("two-factor/backup-codes", sms.sms_backup_codes, name="api_backup_codes"),
    path(
        "two-factor/backup-codes/regenerate",
        backup_codes.backup_codes_regenerate,
        name="api_backup_codes_regenerate",
    ),
    path("two-factor/activate", sms.sms_activate, name="api_two_factor_activate"),
    path("two-factor/cancel", sms.sms_cancel, name="api_two_factor_cancel"),
]
