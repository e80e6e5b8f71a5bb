"""django-oauth-toolkit's request validator, with Twofold's rules and claims.

- The grant keeps the session's proof (assurance.py) when the code is issued; the token
  endpoint reads it back to put ``amr``, ``acr``, ``auth_time`` and ``sid`` in the ID token
  (django-oauth-toolkit takes ``auth_time`` from ``last_login``, which a re-authentication or a
  second sign-in elsewhere moves).
- Claims: ``email``/``email_verified`` (scope ``email``), ``name`` (``profile``), and the account
  with the member's role under :data:`ACCOUNT_CLAIM` (``openid``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator

from twofold import metrics
from twofold.idp import session_end, signing_keys
from twofold.idp.applications import previous_secret_accepts
from twofold.idp.assurance import Proof
from twofold.idp.models import Grant
from twofold.idp.subject import subject_of
from twofold.organizations.models import membership_of

ACCOUNT_CLAIM = "urn:twofold:account"


class TwofoldValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        ACCOUNT_CLAIM: "openid",
    }

    # --- Client authentication --------------------------------------------------------------------

    def _check_secret(self, provided_secret: str, stored_secret: str) -> bool:
        """The current secret, or within its grace the one before the last rotation."""
        if super()._check_secret(provided_secret, stored_secret):
            return True
        return bool(stored_secret) and previous_secret_accepts(stored_secret, provided_secret)

    # --- The proof, from the authorization to the token ------------------------------------------

    def _create_authorization_code(self, request: Any, code: Any, expires: Any = None) -> Any:
        grant = super()._create_authorization_code(request, code, expires)
        proof: Proof | None = getattr(request, "twofold_proof", None)
        if proof is not None:
            grant.auth_time, grant.amr, grant.acr = proof.auth_time, proof.amr, proof.acr
            grant.sid = proof.sid
            grant.application_session = session_end.opened(proof, grant.user, grant.application)
            grant.save(update_fields=["auth_time", "amr", "acr", "sid", "application_session"])
        return grant

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        """The code is good once: the first redemption claims it (one conditional UPDATE, so of
        simultaneous redemptions one wins); a later one is refused and revokes the tokens the
        first one got (RFC 6749 4.1.2, RFC 9700 4.2.4)."""
        grant = Grant.objects.filter(code=code, application=client).first()
        if grant is None:
            return False
        if grant.redeemed_at is not None:
            revoke_issued(grant)
            return False
        if grant.is_expired() or not session_end.still_open(grant.application_session_id):
            return False  # expired, or its session ended before the code was redeemed
        claimed = Grant.objects.filter(pk=grant.pk, redeemed_at__isnull=True).update(
            redeemed_at=timezone.now()
        )
        if not claimed:  # another request redeemed it meanwhile
            grant.refresh_from_db(fields=["access_token"])
            revoke_issued(grant)
            return False
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        request.twofold_grant_id = grant.pk
        request.twofold_application_session_id = grant.application_session_id
        request.twofold_proof = Proof(
            amr=list(grant.amr), acr=grant.acr, auth_time=grant.auth_time, sid=grant.sid
        )
        return True

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *a: Any, **k: Any
    ) -> None:
        """Already done: :meth:`validate_code` claimed the code before any token was made."""

    def _save_bearer_token(self, token: Any, request: Any, *a: Any, **k: Any) -> Any:
        """The code's grant names the access token it gave, found by the token's checksum:
        ``request.access_token`` is the ID token by now (the toolkit's ``finalize_id_token``)."""
        saved = super()._save_bearer_token(token, request, *a, **k)
        metrics.token_issued(str(request.grant_type))  # the code flow's and refreshes' alike
        grant_id = getattr(request, "twofold_grant_id", None)
        raw = token.get("access_token")
        if grant_id is not None and raw:
            checksum = hashlib.sha256(raw.encode()).hexdigest()
            issued = get_access_token_model().objects.filter(token_checksum=checksum).first()
            Grant.objects.filter(pk=grant_id).update(access_token=issued)
        return saved

    def _create_refresh_token(
        self, request: Any, refresh_token_code: Any, access_token: Any, previous: Any
    ) -> Any:
        created = super()._create_refresh_token(request, refresh_token_code, access_token, previous)
        opened = getattr(request, "twofold_application_session_id", None)
        if previous is None and opened is not None:
            session_end.redeemed(opened, created.token_family)
        return created

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        """The toolkit's checks (rotation, reuse revoking the family), then the session's: a
        family whose Twofold session ended refreshes nothing. The new ID token carries the
        proof of the sign-in, not of the refresh (OpenID Connect Core 12.2)."""
        if not super().validate_refresh_token(refresh_token, client, request, *a, **k):
            return False
        signed_in = session_end.live(request.refresh_token_instance.token_family)
        if signed_in is None:
            return False
        request.twofold_proof = Proof(
            amr=list(signed_in.amr),
            acr=signed_in.acr,
            auth_time=signed_in.auth_time,
            sid=signed_in.sid,
        )
        return True

    def validate_bearer_token(self, token: str, scopes: list[str], request: Any) -> bool:
        """A token of a member deactivated since it was issued is refused, whatever its age."""
        if not super().validate_bearer_token(token, scopes, request):
            return False
        return bool(request.user is not None and request.user.is_active)

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        """Only the scopes the application was registered with (idp/applications.py)."""
        allowed = set(client.allowed_scopes.split())
        return set(scopes) <= allowed and super().validate_scopes(
            client_id, scopes, client, request, *a, **k
        )

    def _get_key_for_token(self, token: str) -> Any:
        """Every published key, not the signing key alone: an ``id_token_hint`` signed before a
        rotation (RP-initiated logout) verifies while its key is still published."""
        key = super()._get_key_for_token(token)
        return signing_keys.published() if key is not None and key.get("kty") == "RSA" else key

    # --- prompt=none (the toolkit leaves these to be written: a 500 without them) ---------------

    def validate_silent_authorization(self, request: Any) -> bool:
        """An account's applications need no consent: their administrator registered them."""
        return True

    def validate_silent_login(self, request: Any) -> bool:
        """Only a signed-in browser reaches the authorization view's checks (web/idp/authorize.py
        answers ``login_required`` to the others, and step-up what is missing)."""
        return True

    # --- Claims -----------------------------------------------------------------------------------

    def get_claim_dict(self, request: Any) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_claim_dict(request)
        claims["sub"] = subject_of(request.user, request.client)
        return claims

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        membership = membership_of(user)
        claims: dict[str, Any] = {
            "email": user.email,
            "email_verified": True,  # members sign in only with a verified address
            "name": user.get_full_name() or user.email,
        }
        if membership is not None:
            claims[ACCOUNT_CLAIM] = {
                "id": str(membership.organization_id),
                "name": membership.organization.name,
                "role": membership.role,
            }
        return claims

    def get_id_token_dictionary(self, token: Any, token_handler: Any, request: Any) -> Any:
        claims, expires = super().get_id_token_dictionary(token, token_handler, request)
        proof: Proof | None = getattr(request, "twofold_proof", None)
        if proof is not None:
            claims["amr"] = proof.amr
            claims["acr"] = proof.acr
            if proof.auth_time is not None:
                claims["auth_time"] = _seconds(proof.auth_time)
            if proof.sid:
                claims["sid"] = proof.sid
        return claims, expires


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def revoke_issued(grant: Grant) -> None:
    """A code redeemed twice: its access token, and every refresh token of its family, end.

    Looked up afresh, never through ``grant.access_token``: another refused redemption may have
    ended the token since ``grant`` was read."""
    token = get_access_token_model().objects.filter(pk=grant.access_token_id).first()
    if token is None:
        return
    refresh = get_refresh_token_model().objects.filter(access_token=token).first()
    if refresh is None:
        token.revoke()
        return
    family = refresh.token_family
    tokens = get_refresh_token_model().objects.filter(revoked__isnull=True)
    for member in tokens.filter(token_family=family) if family else [refresh]:
        member.revoke()
