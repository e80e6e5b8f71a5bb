"""Deleting the identity provider's tokens and codes nothing accepts any more (data minimisation;
the tables stop growing): ``twofold purge-tokens``, run daily.

The rules are django-oauth-toolkit's ``clear_expired`` (its ``cleartokens`` command), with the
time given and the counts returned; ``tests/idp/test_expired_tokens.py`` proves both delete the
same rows. Revoked refresh tokens are kept until they would have expired: with
``REFRESH_TOKEN_REUSE_PROTECTION`` a reused, rotated token must still be recognised, so that its
whole family is revoked (RFC 9700 4.14.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Model, Q
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.settings import oauth2_settings

BATCH = 1000


@dataclass(frozen=True)
class TokenPurge:
    refresh_tokens: int  # how many went (or, in a dry run, would go)
    access_tokens: int
    id_tokens: int
    codes: int  # authorization codes (grants)

    @property
    def count(self) -> int:
        return self.refresh_tokens + self.access_tokens + self.id_tokens + self.codes


def purge_expired(*, now: datetime, dry_run: bool = False) -> TokenPurge:
    """Delete, in the toolkit's order (a refresh token first, then the access token it held):
    refresh tokens revoked or idle past ``REFRESH_TOKEN_EXPIRE_SECONDS`` and those whose access
    token is gone, expired access tokens without a refresh token, expired ID tokens without an
    access token, expired codes. ``dry_run`` counts, and then the later counts leave out what
    the earlier deletions would have freed."""
    refresh = _delete(get_refresh_token_model(), _refresh_tokens_gone(now), dry_run)
    access = _delete(
        get_access_token_model(), Q(refresh_token__isnull=True, expires__lt=now), dry_run
    )
    ids = _delete(get_id_token_model(), Q(access_token__isnull=True, expires__lt=now), dry_run)
    codes = _delete(get_grant_model(), Q(expires__lt=now), dry_run)
    return TokenPurge(refresh_tokens=refresh, access_tokens=access, id_tokens=ids, codes=codes)


def _refresh_tokens_gone(now: datetime) -> Q:
    gone = Q(revoked__isnull=True, access_token__isnull=True)  # their access token is gone
    lifetime = refresh_token_expire_timedelta()
    if lifetime is not None:
        gone |= Q(revoked__isnull=True, access_token__expires__lte=now - lifetime)  # idle
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
        # Kept while a reuse must still be recognised; never, if refresh tokens never expire.
        return gone | Q(revoked__lte=now - lifetime) if lifetime is not None else gone
    grace = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS or 0)
    return gone | Q(revoked__lte=now - grace)


def _delete(model: type[Model], rows: Q, dry_run: bool) -> int:
    chosen = model._default_manager.filter(rows)
    if dry_run:
        return int(chosen.count())
    deleted = 0
    # In batches, by primary key: a delete over a join (the access token's expiry) is not
    # portable, and a database limits the parameters of one statement.
    while batch := list(chosen.values_list("pk", flat=True)[:BATCH]):
        _, per_model = model._default_manager.filter(pk__in=batch).delete()
        deleted += per_model.get(model._meta.label, 0)
    return deleted
