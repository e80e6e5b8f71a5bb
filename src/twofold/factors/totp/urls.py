"""The settings pages of the authenticator app, under /settings/security/2fa/totp/."""

from django.urls import path

from twofold.factors.totp import views

urlpatterns = [
    path("", views.enable, name="totp_enable"),
    path("backup-codes/", views.backup_codes, name="totp_backup_codes"),
    path("cancel/", views.cancel, name="totp_cancel"),
]
