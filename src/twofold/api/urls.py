from django.urls import path

from twofold.api import audit, security, sso, sso_sign_in, two_factor, views

urlpatterns = [
    path("me", views.me, name="api_me"),
    path("auth/sso", sso_sign_in.discover, name="api_sso_discover"),
    path("organization", views.organization, name="api_organization"),
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
    path("members", views.members, name="api_members"),
    path("members/<int:membership_id>", views.member, name="api_member"),
    path(
        "members/<int:membership_id>/deactivate",
        views.deactivate_member,
        name="api_member_deactivate",
    ),
    path(
        "members/<int:membership_id>/reactivate",
        views.reactivate_member,
        name="api_member_reactivate",
    ),
    path(
        "members/<int:membership_id>/reset-two-factor",
        views.reset_member_two_factor,
        name="api_member_reset_two_factor",
    ),
    path("invitations", views.invitations, name="api_invitations"),
    path("invitations/<int:invitation_id>", views.invitation, name="api_invitation"),
    path("invitations/accept", views.accept_invitation, name="api_invitation_accept"),
    path("audit-events", audit.audit_events, name="api_audit_events"),
    path("audit-events.csv", audit.audit_events_csv, name="api_audit_events_csv"),
    path("me/security-events", audit.own_security_events, name="api_own_security_events"),
    path("two-factor", two_factor.two_factor, name="api_two_factor"),
    path("two-factor/sms", two_factor.sms_start, name="api_two_factor_sms"),
    path("two-factor/sms/resend", two_factor.sms_resend, name="api_two_factor_sms_resend"),
    path("two-factor/sms/confirm", two_factor.sms_confirm, name="api_two_factor_sms_confirm"),
    path("two-factor/backup-codes", two_factor.backup_codes_show, name="api_backup_codes"),
    path(
        "two-factor/backup-codes/regenerate",
        two_factor.backup_codes_regenerate,
        name="api_backup_codes_regenerate",
    ),
    path("two-factor/activate", two_factor.activate, name="api_two_factor_activate"),
    path("two-factor/cancel", two_factor.cancel, name="api_two_factor_cancel"),
]
