"""The pages that set up and manage a member's second factors, under /settings/security/2fa/."""

from django.urls import path

from twofold.web.factors import any_method as methods
from twofold.web.factors import sms, totp, webauthn

urlpatterns = [
    # Text messages (SMS) and the backup codes of a first factor set up by text message.
    path("enable/", sms.enable, name="two_factor_enable"),
    path("change-number/", sms.change_number, name="two_factor_change_number"),
    path("confirm/", sms.confirm, name="two_factor_confirm"),
    path("confirm/resend/", sms.resend, name="two_factor_resend"),
    path("cancel/", sms.cancel, name="two_factor_cancel"),
    path("backup-codes/", sms.backup_codes, name="two_factor_backup_codes"),
    path(
        "backup-codes/new/", sms.regenerate_backup_codes, name="two_factor_regenerate_backup_codes"
    ),
    path("disable/", sms.disable, name="two_factor_disable"),
    # The authenticator app.
    path("totp/", totp.enable, name="totp_enable"),
    path("totp/backup-codes/", totp.backup_codes, name="totp_backup_codes"),
    path("totp/cancel/", totp.cancel, name="totp_cancel"),
    # Security keys and passkeys.
    path("webauthn/", webauthn.keys, name="webauthn_keys"),
    path("webauthn/backup-codes/", webauthn.backup_codes, name="webauthn_backup_codes"),
    path("webauthn/cancel/", webauthn.cancel, name="webauthn_cancel"),
    path("webauthn/<int:key_id>/rename/", webauthn.rename, name="webauthn_rename"),
    path("webauthn/<int:key_id>/remove/", webauthn.remove, name="webauthn_remove"),
    # Over all of them.
    path("preferred/", methods.preferred, name="two_factor_preferred"),
    path("<slug:method>/remove/", methods.remove, name="two_factor_remove"),
]
