"""The view of an address Twofold does not serve though a package it uses would: a 404 (JSON
under ``/api/`` and ``/_allauth/``, config/urls.py's handler). The served specification leaves out
every path routed here (api/spec.py)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


# It changes nothing, so a forged request gains nothing: a POST gets the 404, not a CSRF 403.
@csrf_exempt
def not_served(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404
