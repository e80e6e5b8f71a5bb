from django.urls import path

from twofold.web.signin import enrollment as enrollment_views
from twofold.web.signin import passkey as webauthn_views
from twofold.web.signin import second_factor as views

urlpatterns = [
    path("", views.sms_code, name="second_factor"),
    path("resend/", views.resend, name="second_factor_resend"),
    path("backup-code/", views.backup_code, name="second_factor_backup_code"),
    path("other/", views.other_ways, name="second_factor_other_ways"),
    path("reauthenticate/", views.reauthenticate, name="second_factor_reauthenticate"),
    path("passkey/", webauthn_views.passkey_sign_in, name="passkey_sign_in"),
    # Forced enrollment, when the account requires 2FA (signin/enrollment.py).
    path("enroll/", enrollment_views.start, name="two_factor_enrollment"),
    path("enroll/number/", enrollment_views.phone, name="two_factor_enrollment_phone"),
    path("enroll/app/", enrollment_views.app, name="two_factor_enrollment_app"),
    path("enroll/confirm/", enrollment_views.confirm, name="two_factor_enrollment_confirm"),
    path("enroll/confirm/resend/", enrollment_views.resend, name="two_factor_enrollment_resend"),
    path(
        "enroll/backup-codes/",
        enrollment_views.backup_codes,
        name="two_factor_enrollment_backup_codes",
    ),
    path("enroll/later/", enrollment_views.later, name="two_factor_enrollment_later"),
]
