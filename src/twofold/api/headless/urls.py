"""Twofold's endpoints under /_allauth/, matched before allauth's headless API: the merged
OpenAPI document, and the second-factor stage endpoints of both clients (browser, app)."""

from allauth.headless.constants import Client
from django.urls import include, path

from twofold.api import spec
from twofold.api.headless import config, second_factor, webauthn

urlpatterns = [
    path("openapi.yaml", spec.openapi_yaml, name="twofold_openapi_yaml"),
    path("openapi.json", spec.openapi_json, name="twofold_openapi_json"),
    path("browser/v1/", include(config.urlpatterns_for(Client.BROWSER))),
    path("app/v1/", include(config.urlpatterns_for(Client.APP))),
    path("browser/v1/", include(second_factor.urlpatterns_for(Client.BROWSER))),
    path("app/v1/", include(second_factor.urlpatterns_for(Client.APP))),
    path("browser/v1/", include(webauthn.urlpatterns_for(Client.BROWSER))),
    path("app/v1/", include(webauthn.urlpatterns_for(Client.APP))),
]
