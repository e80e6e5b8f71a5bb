from django.urls import path

from twofold.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/security/", views.security_settings, name="security_settings"),
    path("account/", views.account_settings, name="account_settings"),
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
        "account/invitations/<int:pk>/revoke",
        views.revoke_invitation,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.accept_invitation, name="invitation_accept"),
]
