"""The identity provider's JSON endpoints: token, revocation, introspection, discovery, keys and
user info (django-oauth-toolkit's views)."""

from django.urls import path, re_path
from oauth2_provider import views

from twofold.api.idp.discovery import Discovery
from twofold.api.idp.token import Token

urlpatterns = [
    path("token/", Token.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    re_path(
        r"^\.well-known/openid-configuration$",
        Discovery.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", views.UserInfoView.as_view(), name="user-info"),
]
