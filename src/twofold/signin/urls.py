from django.urls import path

from twofold.signin import views

urlpatterns = [
    path("", views.sms_code, name="second_factor"),
    path("resend/", views.resend, name="second_factor_resend"),
    path("backup-code/", views.backup_code, name="second_factor_backup_code"),
    path("reauthenticate/", views.reauthenticate, name="second_factor_reauthenticate"),
]
