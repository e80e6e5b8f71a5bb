from django.urls import path

from twofold.api import two_factor, views

urlpatterns = [
    path("me", views.me, name="api_me"),
    path("organization", views.organization, name="api_organization"),
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
    path("invitations", views.invitations, name="api_invitations"),
    path("invitations/<int:invitation_id>", views.invitation, name="api_invitation"),
    path("invitations/accept", views.accept_invitation, name="api_invitation_accept"),
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
