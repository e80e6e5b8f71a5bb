"""The settings pages of SMS two-factor authentication, under /settings/security/2fa/."""

from django.urls import path

from twofold.factors.sms import views

urlpatterns = [
    path("enable/", views.enable, name="two_factor_enable"),
    path("change-number/", views.change_number, name="two_factor_change_number"),
    path("confirm/", views.confirm, name="two_factor_confirm"),
    path("confirm/resend/", views.resend, name="two_factor_resend"),
    path("cancel/", views.cancel, name="two_factor_cancel"),
    path("backup-codes/", views.backup_codes, name="two_factor_backup_codes"),
    path(
        "backup-codes/new/",
        views.regenerate_backup_codes,
        name="two_factor_regenerate_backup_codes",
    ),
    path("disable/", views.disable, name="two_factor_disable"),
]
