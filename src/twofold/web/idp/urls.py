"""The identity provider's pages: authorization and RP-initiated logout (config/urls.py mounts
them with api/idp/urls.py under ``/oauth/``, in django-oauth-toolkit's namespace)."""

from django.urls import path
from oauth2_provider import views

from twofold.web.idp.authorize import Authorize

urlpatterns = [
    path("authorize/", Authorize.as_view(), name="authorize"),
    path("logout/", views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]
