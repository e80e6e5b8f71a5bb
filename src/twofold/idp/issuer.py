"""The provider's issuer: ``TWOFOLD_PUBLIC_URL`` + ``/oauth``, as the toolkit's settings name it
(the ``iss`` of every token Twofold signs, and what applications configure)."""

from __future__ import annotations

from django.conf import settings


def issuer() -> str:
    return str(settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"])
