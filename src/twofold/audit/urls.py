"""The administrators' audit log, under /account/audit/."""

from django.urls import path

from twofold.audit import views

urlpatterns = [
    path("", views.audit_log, name="audit_log"),
    path("export.csv", views.audit_export, name="audit_export"),
]
