from django.urls import include, path

from twofold.web import account, views

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/security/", views.security_settings, name="security_settings"),
    path("account/", account.account_settings, name="account_settings"),
    path("account/security/", account.security_policy, name="account_security_policy"),
    path(
        "account/security/sign-out-members-without-2fa",
        account.sign_out_members_without_two_factor,
        name="account_sign_out_without_two_factor",
    ),
    path("account/sso/", include("twofold.web.sso_urls")),
    path("account/members/", views.members, name="members"),
    path("account/members/<int:pk>/role", views.change_role, name="member_role"),
    path(
        "account/members/<int:pk>/deactivate",
        views.deactivate_member,
        name="member_deactivate",
    ),
    path(
        "account/members/<int:pk>/reactivate",
        views.reactivate_member,
        name="member_reactivate",
    ),
    path(
        "account/members/<int:pk>/reset-two-factor",
        views.reset_two_factor,
        name="member_reset_two_factor",
    ),
    path(
        "account/invitations/<int:pk>/revoke",
        views.revoke_invitation,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.accept_invitation, name="invitation_accept"),
]
