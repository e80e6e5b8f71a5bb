"""The applications that sign their users in through Twofold: an account's, registered and
changed by its administrators (the "Applications" page and ``/api/v1/organization/applications``),
or instance-wide, by the operator (``twofold create-application``).

A redirect URI is matched exactly (RFC 9700 2.1): an absolute URI without a fragment or a
wildcard, ``https`` in production except on this machine's loopback (RFC 8252 7.3). The client
secret is shown once and stored hashed by django-oauth-toolkit. Rotating it makes a new one and
keeps the one before valid for :data:`SECRET_GRACE`, so that the application's configuration can
be changed without an outage; the administrator can end the old one sooner. An application of
another account does not exist for an administrator (404).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import FlowError, NotFound
from twofold.idp import subject
from twofold.idp.models import Application
from twofold.organizations.models import Membership, Organization, require_administrator
from twofold.users.models import User

SCOPES = ("openid", "profile", "email")
NAME_LENGTH = 100
_LOOPBACK_NAMES = {"localhost"}
# How long the secret before a rotation still authenticates the application.
SECRET_GRACE = timedelta(hours=24)
NO_SUCH_APPLICATION = gettext_lazy("There is no such application in your account.")
# What an administrator may change after registering (the client type is fixed: a public
# client given a secret, or the reverse, would be another application).
CHANGEABLE = (
    "name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "scopes",
    "backchannel_logout_uri",
)


@dataclass(frozen=True)
class Registered:
    application: Application
    client_secret: str | None  # shown once; None for a public client


def register(
    *,
    organization: Organization | None,
    actor: User | None,
    name: str,
    redirect_uris: Sequence[str],
    post_logout_redirect_uris: Sequence[str] = (),
    confidential: bool = True,
    scopes: Sequence[str] | None = None,
    backchannel_logout_uri: str = "",
    subject_type: str = subject.PUBLIC,
) -> Registered:
    """A new application; its secret (confidential clients) is in the answer and nowhere else."""
    name = _checked_name(name)
    redirects = checked_uris(redirect_uris, param="redirect_uris", required=True)
    logouts = checked_uris(post_logout_redirect_uris, param="post_logout_redirect_uris")
    allowed = checked_scopes(scopes)
    logout_uri = checked_logout_uri(backchannel_logout_uri)
    if subject_type not in subject.SUBJECT_TYPES:
        raise FlowError(
            gettext("Choose public or pairwise subjects."),
            code="invalid_choice",
            param="subject_type",
        )
    secret = secrets.token_urlsafe(32) if confidential else None
    with transaction.atomic():
        application = Application.objects.create(
            name=name,
            organization=organization,
            client_type=(
                Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC
            ),
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(redirects),
            post_logout_redirect_uris=" ".join(logouts),
            client_secret=secret or "",
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,  # registered by the account: no consent screen
            allowed_scopes=" ".join(allowed),
            backchannel_logout_uri=logout_uri,
            subject_type=subject_type,
        )
        record(
            Event.APPLICATION_REGISTERED,
            actor=actor,
            organization=organization,
            detail={"client_id": application.client_id, "name": name},
        )
    return Registered(application, secret)


# --- An account's applications, for its administrators --------------------------------------------


def list_applications(actor: Membership) -> list[Application]:
    require_administrator(actor)
    return list(Application.objects.filter(organization=actor.organization).order_by("name", "pk"))


def get_application(actor: Membership, application_id: int) -> Application:
    """An application of the actor's own account; others do not exist for the actor."""
    require_administrator(actor)
    found = Application.objects.filter(organization=actor.organization, pk=application_id).first()
    if found is None:
        raise NotFound(NO_SUCH_APPLICATION)
    return found


def register_for(actor: Membership, fields: Mapping[str, Any]) -> Registered:
    """An application of the actor's account (the fields of ``idp/forms.py::ApplicationForm``)."""
    require_administrator(actor)
    return register(
        organization=actor.organization,
        actor=actor.user,
        name=fields["name"],
        redirect_uris=fields["redirect_uris"],
        post_logout_redirect_uris=fields.get("post_logout_redirect_uris") or (),
        confidential=fields.get("confidential", True),
        scopes=fields.get("scopes") or None,
        backchannel_logout_uri=fields.get("backchannel_logout_uri") or "",
        subject_type=fields.get("subject_type") or subject.PUBLIC,
    )


def change_application(
    actor: Membership, application_id: int, fields: Mapping[str, Any]
) -> Application:
    """Name, redirect URIs and scopes, checked as at registration; a PATCH names only some."""
    with transaction.atomic():
        application = _locked(actor, application_id)
        before = _described(application)
        if "name" in fields:
            application.name = _checked_name(fields["name"])
        if "redirect_uris" in fields:
            uris = checked_uris(fields["redirect_uris"], param="redirect_uris", required=True)
            application.redirect_uris = " ".join(uris)
        if "post_logout_redirect_uris" in fields:
            uris = checked_uris(
                fields["post_logout_redirect_uris"], param="post_logout_redirect_uris"
            )
            application.post_logout_redirect_uris = " ".join(uris)
        if "scopes" in fields:
            application.allowed_scopes = " ".join(checked_scopes(fields["scopes"]))
        if "backchannel_logout_uri" in fields:
            uri = checked_logout_uri(fields["backchannel_logout_uri"] or "")
            application.backchannel_logout_uri = uri
        application.save()
        changed = sorted(
            key for key, value in _described(application).items() if before[key] != value
        )
        if changed:
            record(
                Event.APPLICATION_CHANGED,
                actor=actor.user,
                organization=actor.organization,
                detail={"client_id": application.client_id, "changed": changed},
            )
    return application


def rotate_secret(
    actor: Membership, application_id: int, now: datetime | None = None
) -> Registered:
    """A new secret, shown once; the one before keeps working for :data:`SECRET_GRACE`. A second
    rotation within the grace ends the first secret: only the last two are ever valid."""
    now = now or clock.now()
    with transaction.atomic():
        application = _locked(actor, application_id)
        if application.client_type != Application.CLIENT_CONFIDENTIAL:
            raise FlowError(
                gettext("A public application has no secret to rotate."), code="public_client"
            )
        secret = secrets.token_urlsafe(32)
        application.previous_client_secret = application.client_secret  # already hashed
        application.previous_secret_expires_at = now + SECRET_GRACE
        application.client_secret = secret  # hashed by the toolkit's field when saved
        application.save()
        record(
            Event.APPLICATION_SECRET_ROTATED,
            actor=actor.user,
            organization=actor.organization,
            detail={
                "client_id": application.client_id,
                "old_secret_until": application.previous_secret_expires_at.isoformat(),
            },
        )
    return Registered(application, secret)


def end_previous_secret(actor: Membership, application_id: int) -> Application:
    """The secret before the last rotation stops working now."""
    with transaction.atomic():
        application = _locked(actor, application_id)
        if application.previous_client_secret:
            application.previous_client_secret = ""
            application.previous_secret_expires_at = None
            application.save(update_fields=["previous_client_secret", "previous_secret_expires_at"])
            record(
                Event.APPLICATION_OLD_SECRET_ENDED,
                actor=actor.user,
                organization=actor.organization,
                detail={"client_id": application.client_id},
            )
    return application


def delete_application(actor: Membership, application_id: int) -> None:
    """The application and every token and code it holds (the toolkit's cascades)."""
    with transaction.atomic():
        application = _locked(actor, application_id)
        detail = {"client_id": application.client_id, "name": application.name}
        application.delete()
        record(
            Event.APPLICATION_DELETED,
            actor=actor.user,
            organization=actor.organization,
            detail=detail,
        )


def previous_secret_accepts(current_hash: str, provided: str, now: datetime | None = None) -> bool:
    """Whether ``provided`` is the secret before the last rotation of the application whose
    current secret is ``current_hash``, within its grace (idp/validator.py asks when the
    current one did not match)."""
    now = now or clock.now()
    previous = (
        Application.objects.filter(client_secret=current_hash, previous_secret_expires_at__gt=now)
        .exclude(previous_client_secret="")
        .values_list("previous_client_secret", flat=True)
        .first()
    )
    return previous is not None and check_password(provided, previous)


def old_secret_valid_until(
    application: Application, now: datetime | None = None
) -> datetime | None:
    until = application.previous_secret_expires_at
    if not application.previous_client_secret or until is None or until <= (now or clock.now()):
        return None
    return until


def _locked(actor: Membership, application_id: int) -> Application:
    get_application(actor, application_id)  # 403, then 404
    return Application.objects.select_for_update().get(pk=application_id)


def _described(application: Application) -> dict[str, str]:
    return {
        "name": application.name,
        "redirect_uris": application.redirect_uris,
        "post_logout_redirect_uris": application.post_logout_redirect_uris,
        "scopes": application.allowed_scopes,
        "backchannel_logout_uri": application.backchannel_logout_uri,
    }


# --- The rules of every registration --------------------------------------------------------------


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise FlowError(
            gettext("Give the application a name of 1 to %(NAME_LENGTH)s characters.")
            % {"NAME_LENGTH": NAME_LENGTH},
            code="invalid",
            param="name",
        )
    return name


def checked_uris(uris: Sequence[str], *, param: str, required: bool = False) -> list[str]:
    found = [uri.strip() for uri in uris if uri.strip()]
    if required and not found:
        raise FlowError(gettext("Give at least one redirect URI."), code="required", param=param)
    for uri in found:
        problem = _problem(uri)
        if problem:
            raise FlowError(f"{uri!r} {problem}", code="redirect_uri_invalid", param=param)
    return list(dict.fromkeys(found))


def checked_logout_uri(uri: str) -> str:
    """Where logout tokens go (Back-Channel Logout 1.0 section 2.2): as a redirect URI, and
    without a query's fragment; empty when the application is not to be told."""
    uri = uri.strip()
    if uri:
        checked_uris([uri], param="backchannel_logout_uri")
    return uri


def _problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return gettext("must be an absolute https:// address.")
    if parts.fragment or "#" in uri:
        return gettext("must not have a fragment (#…).")
    if "*" in uri:
        return gettext("must be exact: no wildcards.")
    if parts.scheme == "http" and settings.TWOFOLD.is_production and not _loopback(parts.hostname):
        return gettext("must use https:// (http:// only on this machine's loopback address).")
    return None


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def checked_scopes(scopes: Sequence[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(scopes or SCOPES))
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise FlowError(
            gettext("Unknown scope %(scope)r: choose from %(scopes)s.")
            % {"scope": unknown[0], "scopes": ", ".join(SCOPES)},
            code="invalid",
            param="scopes",
        )
    if "openid" not in chosen:
        raise FlowError(
            gettext("An application signs people in: it needs the openid scope."),
            code="invalid",
            param="scopes",
        )
    return chosen
