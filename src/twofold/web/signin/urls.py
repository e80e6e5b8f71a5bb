from django.urls import path

from twofold.web.signin import forced_enrollment
from twofold.web.signin import passkey as webauthn_views
from twofold.web.signin import second_factor as views

urlpatterns = [
    path("", views.sms_code, name="second_factor"),
    path("resend/", views.resend, name="second_factor_resend"),
    path("backup-code/", views.backup_code, name="second_factor_backup_code"),
    path("other/", views.other_ways, name="second_factor_other_ways"),
    path("reauthenticate/", views.reauthenticate, name="second_factor_reauthenticate"),
    path("passkey/", webauthn_views.passkey_sign_in, name="passkey_sign_in"),
    # Forced enrollment, when the account requires 2FA (signin/forced_enrollment.py).
    path("enroll/", forced_enrollment.start, name="two_factor_enrollment"),
    path("enroll/number/", forced_enrollment.phone, name="two_factor_enrollment_phone"),
    path("enroll/app/", forced_enrollment.app, name="two_factor_enrollment_app"),
    path("enroll/confirm/", forced_enrollment.confirm, name="two_factor_enrollment_confirm"),
    path("enroll/confirm/resend/", forced_enrollment.resend, name="two_factor_enrollment_resend"),
    path(
        "enroll/backup-codes/",
        forced_enrollment.backup_codes,
        name="two_factor_enrollment_backup_codes",
    ),
    path("enroll/later/", forced_enrollment.later, name="two_factor_enrollment_later"),
]
