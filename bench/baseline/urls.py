from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from bench.baseline import views
from bench.baseline.settings import FLAVOUR


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home),
    path("api/v1/me", views.me),
    path("healthz", healthz),
]
if FLAVOUR == "allauth":
    urlpatterns.append(path("accounts/", include("allauth.urls")))
else:
    urlpatterns.append(path("accounts/login/", views.login))
