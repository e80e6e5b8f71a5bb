from django.urls import path

from twofold.api import views

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
]
