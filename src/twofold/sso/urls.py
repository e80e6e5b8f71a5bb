"""Routed under ``accounts/oidc/`` before allauth's URLs: the callback with Twofold's checks."""

from django.urls import path

from twofold.sso import oidc

urlpatterns = [
    path("<str:provider_id>/login/callback/", oidc.callback, name="twofold_oidc_callback"),
]
