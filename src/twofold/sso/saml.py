"""SAML single sign-on through allauth's ``saml`` provider, with the checks it leaves out
(DESIGN.md "SSO", reference/threats.md 4.4).

An account's :class:`SamlConnection` is offered to allauth as an in-memory ``SocialApp``
(:func:`app_of`): ``client_id`` is the connection's slug (allauth's URLs
``accounts/saml/<slug>/...``) and ``provider_id`` is ``saml-<slug>``, so members are keyed by
(connection, subject), never across accounts.

python3-saml runs strict: Response *and* Assertion signed, SHA-256 (deprecated algorithms
refused), the IdP's certificate from the connection only, issuer, audience, times and
``InResponseTo`` checked. :class:`StrictResponse` adds what it leaves loose: ``Destination``
required and equal to our ACS URL, a bearer ``SubjectConfirmationData`` whose ``Recipient``
equals it exactly (python3-saml compares as a substring). The assertion id is then kept until
it expires (:func:`remember_assertion`) in the database cache, so a replay is refused on every
worker and instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from allauth.socialaccount.providers.saml.utils import build_saml_config
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from twofold import clock
from twofold.sso.models import SAML_PROVIDER_PREFIX, SamlConnection

# Where the SAML facts of a sign-in are kept in ``SocialAccount.extra_data``.
SAML_DATA = "saml"
# Bound on a posted SAMLResponse (base64): real ones are a few kB (threats.md 4.4, DoS).
MAX_RESPONSE_CHARS = 256 * 1024
# How long an assertion id is kept when the assertion names no expiry.
DEFAULT_REPLAY_WINDOW = timedelta(minutes=10)
BEARER = OneLogin_Saml2_Constants.CM_BEARER
CLOCK_SKEW = timedelta(seconds=OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT)

EMAIL_ATTRIBUTES = [
    "email",
    "mail",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
]


def connection_of_provider(provider_id: str) -> SamlConnection | None:
    """The connection a ``SocialAccount.provider`` (``saml-<slug>``) names, if any."""
    if not provider_id.startswith(SAML_PROVIDER_PREFIX):
        return None
    slug = provider_id.removeprefix(SAML_PROVIDER_PREFIX)
    return SamlConnection.objects.select_related("organization").filter(slug=slug).first()


@dataclass(frozen=True)
class ServiceProvider:
    """What the identity provider's administrator enters: Twofold's addresses for a connection.
    Built from the request like allauth's (the host is one of ``ALLOWED_HOSTS``)."""

    entity_id: str
    acs_url: str
    metadata_url: str


def service_provider(request: HttpRequest, connection: SamlConnection) -> ServiceProvider:
    return service_provider_at(request, connection.slug)


def service_provider_at(request: HttpRequest, slug: str) -> ServiceProvider:
    """The addresses of the connection ``slug``, also before it exists (the page that creates it
    shows them, so the identity provider can be set up first)."""

    def address(urlname: str) -> str:
        return request.build_absolute_uri(reverse(urlname, args=[slug]))

    metadata = address("saml_metadata")
    return ServiceProvider(entity_id=metadata, acs_url=address("saml_acs"), metadata_url=metadata)


def app_settings(connection: SamlConnection) -> dict[str, Any]:
    """allauth's provider settings for the connection (``build_saml_config`` reads them)."""
    return {
        "idp": {
            "entity_id": connection.idp_entity_id,
            "sso_url": connection.idp_sso_url,
            "x509cert": connection.idp_certificate,
        },
        "attribute_mapping": {"email": EMAIL_ATTRIBUTES},
        "use_nameid_for_email": False,
        "advanced": {
            "strict": True,
            "want_assertion_signed": True,
            "want_message_signed": True,
            "reject_deprecated_algorithm": True,
            # Our own addresses: ``localhost`` on a laptop is a single-label domain.
            "allow_single_label_domains": True,
            "want_attribute_statement": False,
            "want_name_id": True,
            "allow_repeat_attribute_name": True,
            "digest_algorithm": OneLogin_Saml2_Constants.SHA256,
            "signature_algorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "reject_idp_initiated_sso": not connection.allow_idp_initiated,
            "name_id_format": OneLogin_Saml2_Constants.NAMEID_UNSPECIFIED,
        },
    }


def app_of(connection: SamlConnection) -> SocialApp:
    """The connection as an allauth app (never saved: the connection is the one record)."""
    return SocialApp(
        provider=SAMLProvider.id,
        provider_id=connection.provider_id,
        name=connection.name,
        client_id=connection.slug,
        settings=app_settings(connection),
    )


def apps(provider: str | None, client_id: str | None) -> list[SocialApp]:
    """The connections matching allauth's ``list_apps(provider=..., client_id=...)``; none for
    an unfiltered listing, which would show every account's connection on the sign-in page and
    in the API's configuration ("Sign in with SSO" finds one by email domain instead)."""
    if not provider and not client_id:
        return []
    found = SamlConnection.objects.all()
    if provider and provider != SAMLProvider.id:
        if not provider.startswith(SAML_PROVIDER_PREFIX):
            return []
        found = found.filter(slug=provider.removeprefix(SAML_PROVIDER_PREFIX))
    if client_id:
        found = found.filter(slug=client_id)
    return [app_of(connection) for connection in found]


class StrictResponse(OneLogin_Saml2_Response):
    """python3-saml's response checks, plus exact ``Destination`` and ``Recipient``."""

    def is_valid(
        self,
        request_data: dict[str, Any],
        request_id: str | None = None,
        raise_exceptions: bool = False,
    ) -> bool:
        if not super().is_valid(request_data, request_id, raise_exceptions):
            return False
        try:
            self._check_addressed_to(OneLogin_Saml2_Utils.get_self_url_no_query(request_data))
        except OneLogin_Saml2_ValidationError as error:
            self._error = str(error)
            if raise_exceptions:
                raise
            return False
        return True

    def _check_addressed_to(self, acs: str) -> None:
        if self.document.get("Destination") != acs:
            raise OneLogin_Saml2_ValidationError(
                "The response is not addressed to this service (Destination).",
                OneLogin_Saml2_ValidationError.WRONG_DESTINATION,
            )
        confirmations = self._query_assertion(
            f"/saml:Subject/saml:SubjectConfirmation[@Method='{BEARER}']/saml:SubjectConfirmationData"
        )
        if not any(data.get("Recipient") == acs for data in confirmations):
            raise OneLogin_Saml2_ValidationError(
                "The assertion is not addressed to this service (Recipient).",
                OneLogin_Saml2_ValidationError.WRONG_SUBJECTCONFIRMATION,
            )


class StrictAuth(OneLogin_Saml2_Auth):
    response_class = StrictResponse


def request_data(request: HttpRequest) -> dict[str, Any]:
    """python3-saml's view of a request; the host is Django's validated one (allauth reads the
    raw ``Host`` header, absent from HTTP/1.0 requests)."""
    return {
        "https": "on" if request.is_secure() else "off",
        "http_host": request.get_host(),
        "script_name": request.META.get("SCRIPT_NAME", ""),
        "path_info": request.path_info,
        "get_data": request.GET.copy(),
        "post_data": request.POST.copy(),
    }


def build_auth(request: HttpRequest, connection_slug: str, app: SocialApp) -> StrictAuth:
    """python3-saml for ``request`` with the connection's settings (strict)."""
    return StrictAuth(
        request_data(request), build_saml_config(request, app.settings, connection_slug)
    )


class TwofoldSamlProvider(SAMLProvider):
    """allauth's SAML provider; keeps the AuthnContextClassRef and the assertion's identity
    (allauth drops them), and builds :class:`StrictAuth`."""

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        """allauth's redirect (an AuthnRequest whose id names the stashed login state)."""
        auth = build_auth(request, self.app.client_id, self.app)
        location = auth.login(return_to="")
        self.stash_redirect_state(
            request, process, next_url, data, state_id=auth.get_last_request_id(), **kwargs
        )
        return HttpResponseRedirect(location)

    def extract_extra_data(self, data: Any) -> dict[str, Any]:
        return {
            SAML_DATA: {
                "attributes": data.get_attributes(),
                "name_id": data.get_nameid(),
                "authn_contexts": list(data.get_last_authn_contexts() or []),
            }
        }

    def extract_uid(self, data: Any) -> str:
        """The NameID: the subject the identity provider names (its whole text)."""
        return str(data.get_nameid())


def remember_assertion(connection: SamlConnection, assertion_id: str, not_on_or_after: Any) -> bool:
    """Keep the assertion id until it expires (plus clock skew); False when it was seen before.

    ``add`` is atomic in the database cache, so two workers receiving the same response at once
    cannot both accept it; kept there, not in Redis, so an outage or a restart of Redis does not
    forget it (config/redis_cache.py).
    """
    now = clock.now()
    expires = _as_datetime(not_on_or_after) or now + DEFAULT_REPLAY_WINDOW
    timeout = max(1, int((expires + CLOCK_SKEW - now).total_seconds()))
    seen = caches["database"]  # a replay guard must survive a Redis outage
    return bool(seen.add(f"saml:assertion:{connection.slug}:{assertion_id}", 1, timeout))


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=clock.now().tzinfo)
    return None
