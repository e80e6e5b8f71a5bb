"""Settings pages over all of a member's factors, under /settings/security/2fa/."""

from django.urls import include, path

from twofold.factors import views

urlpatterns = [
    path("totp/", include("twofold.factors.totp.urls")),
    path("webauthn/", include("twofold.factors.webauthn.urls")),
    path("preferred/", views.preferred, name="two_factor_preferred"),
    path("<slug:method>/remove/", views.remove, name="two_factor_remove"),
]
