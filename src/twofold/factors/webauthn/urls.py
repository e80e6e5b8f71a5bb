"""The settings pages of security keys and passkeys, under /settings/security/2fa/webauthn/."""

from django.urls import path

from twofold.factors.webauthn import views

urlpatterns = [
    path("", views.keys, name="webauthn_keys"),
    path("backup-codes/", views.backup_codes, name="webauthn_backup_codes"),
    path("cancel/", views.cancel, name="webauthn_cancel"),
    path("<int:key_id>/rename/", views.rename, name="webauthn_rename"),
    path("<int:key_id>/remove/", views.remove, name="webauthn_remove"),
]
