""" "Account & Security" → "Single sign-on", for administrators: SAML connections, claimed email
domains, and the Google / Microsoft settings.

Thin skins over ``sso/connections.py`` and ``sso/settings_flows.py`` with the forms of
``sso/forms.py``, as the JSON API.
An id of another account's connection or domain is a 404. Every page asks for the
administrator's recent authentication (ASVS 7.5.1), as the SMS settings pages do.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from twofold.errors import FlowError, NotFound
from twofold.sso import connections as connection_flows
from twofold.sso import domain_verification, saml, settings_flows
from twofold.sso import trial_sign_in as test_sign_in
from twofold.sso.forms import (
    ConnectionForm,
    EmailDomainChangeForm,
    EmailDomainForm,
    SsoSettingsForm,
)
from twofold.sso.idp_metadata import describe_pem
from twofold.sso.models import AccountSso, EmailDomain, SamlConnection, new_slug
from twofold.web.decorators import administrator_required, fresh, signed_in_membership

INVALID = 400
# The page holds two 2FA-policy forms: their fields need ids of their own.
SETTINGS_IDS = "settings_%s"
NEW_CONNECTION_IDS = "new_%s"
# The next connection's slug, drawn when the page is shown: its addresses are shown before it
# exists, so the identity provider can be set up first; as random as SamlConnection's own.
NEXT_SLUG = "twofold_sso_next_slug"


def settings_initial(sso: AccountSso) -> dict[str, Any]:
    return {field: getattr(sso, field) for field in settings_flows.SETTINGS_FIELDS}


def connection_initial(connection: SamlConnection) -> dict[str, Any]:
    return {field: getattr(connection, field) for field in connection_flows.CONNECTION_FIELDS}


def _domain_form(claimed: EmailDomain, connections: list[SamlConnection]) -> forms.Form:
    initial = {"connection": claimed.connection_id, "just_in_time": claimed.just_in_time}
    return EmailDomainChangeForm(
        initial=initial, connections=connections, prefix=f"domain-{claimed.pk}"
    )


def _render(
    request: HttpRequest,
    *,
    settings_form: forms.Form | None = None,
    connection_form: forms.Form | None = None,
    domain_form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = signed_in_membership(request)
    connections = connection_flows.list_connections(actor)
    sso = settings_flows.sso_settings(actor)
    context = {
        "settings_form": settings_form
        or SsoSettingsForm(initial=settings_initial(sso), auto_id=SETTINGS_IDS),
        "connection_form": connection_form
        or ConnectionForm(initial=connection_initial(SamlConnection()), auto_id=NEW_CONNECTION_IDS),
        "domain_form": domain_form or EmailDomainForm(connections=connections),
        "connections": [(c, describe_pem(c.idp_certificate)) for c in connections],
        "domains": [(d, _domain_form(d, connections)) for d in settings_flows.list_domains(actor)],
        "next_service_provider": saml.service_provider_at(request, _next_slug(request)),
    }
    return render(request, "twofold/sso.html", context, status=status)


def _next_slug(request: HttpRequest) -> str:
    slug: str = request.session.setdefault(NEXT_SLUG, new_slug())
    return slug


def _add_error(form: forms.Form, error: FlowError) -> None:
    if isinstance(error, NotFound) and error.param is None:
        raise Http404(error.message)
    form.add_error(error.param if error.param in form.fields else None, error.message)


@administrator_required
@fresh
def sso_page(request: HttpRequest) -> HttpResponse:
    return _render(request)


@administrator_required
@fresh
@require_POST
def save_settings(request: HttpRequest) -> HttpResponse:
    form = SsoSettingsForm(request.POST, auto_id=SETTINGS_IDS)
    if not form.is_valid():
        return _render(request, settings_form=form, status=INVALID)
    settings_flows.change_settings(signed_in_membership(request), form.cleaned_data)
    messages.success(request, gettext("The single sign-on settings were saved."))
    return redirect("account_sso")


@administrator_required
@fresh
@require_POST
def add_connection(request: HttpRequest) -> HttpResponse:
    form = ConnectionForm(request.POST, request.FILES, auto_id=NEW_CONNECTION_IDS)
    if form.is_valid():
        try:
            connection = connection_flows.create_connection(
                signed_in_membership(request),
                form.cleaned_data,
                slug=request.session.get(NEXT_SLUG),
            )
        except FlowError as error:
            _add_error(form, error)
        else:
            request.session.pop(NEXT_SLUG, None)  # the next connection gets addresses of its own
            messages.success(
                request,
                gettext(
                    "The connection %(name)s was created. Enter Twofold's values below at your "
                    "identity provider, then run a test sign-in."
                )
                % {"name": connection.name},
            )
            return redirect("account_sso_connection", pk=connection.pk)
    return _render(request, connection_form=form, status=INVALID)


def _connection(request: HttpRequest, pk: int) -> SamlConnection:
    try:
        return connection_flows.get_connection(signed_in_membership(request), pk)
    except NotFound as error:
        raise Http404(error.message) from None


@administrator_required
@fresh
def connection_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The connection, Twofold's values for the identity provider, and the form to change it."""
    connection = _connection(request, pk)
    if request.method != "POST":
        form = ConnectionForm(initial=connection_initial(connection))
    else:
        form = ConnectionForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                connection_flows.change_connection(
                    signed_in_membership(request), pk, form.cleaned_data
                )
            except FlowError as error:
                _add_error(form, error)
            else:
                messages.success(request, gettext("The connection was saved."))
                return redirect("account_sso_connection", pk=pk)
    context = {
        "connection": connection,
        "form": form,
        "certificate": describe_pem(connection.idp_certificate),
        "service_provider": saml.service_provider(request, connection),
        "linked_members": connection_flows.linked_members(connection),
    }
    return render(
        request, "twofold/sso_connection.html", context, status=INVALID if form.errors else 200
    )


@administrator_required
@fresh
def delete_connection(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    connection = _connection(request, pk)
    if request.method != "POST":
        context = {
            "connection": connection,
            "linked_members": connection_flows.linked_members(connection),
        }
        return render(request, "twofold/sso_connection_delete.html", context)
    connection_flows.delete_connection(signed_in_membership(request), pk)
    messages.success(
        request, gettext("The connection %(name)s was deleted.") % {"name": connection.name}
    )
    return redirect("account_sso")


@administrator_required
@fresh
@require_POST
def test_connection(request: HttpRequest, pk: int) -> HttpResponse:
    """Off to the identity provider; the result page shows what it asserted."""
    return test_sign_in.start(request, _connection(request, pk))


@administrator_required
@fresh
@require_POST
def add_domain(request: HttpRequest) -> HttpResponse:
    actor = signed_in_membership(request)
    form = EmailDomainForm(request.POST, connections=connection_flows.list_connections(actor))
    if form.is_valid():
        data = form.cleaned_data
        try:
            claimed = settings_flows.add_domain(
                actor,
                data["domain"],
                connection_id=data["connection"],
                just_in_time=data["just_in_time"],
            )
        except FlowError as error:
            _add_error(form, error)
        else:
            messages.success(
                request, gettext("The domain %(domain)s was added.") % {"domain": claimed.domain}
            )
            return redirect("account_sso")
    return _render(request, domain_form=form, status=INVALID)


@administrator_required
@fresh
@require_POST
def change_domain(request: HttpRequest, pk: int) -> HttpResponse:
    actor = signed_in_membership(request)
    form = EmailDomainChangeForm(
        request.POST,
        connections=connection_flows.list_connections(actor),
        prefix=f"domain-{pk}",
    )
    if not form.is_valid():
        messages.error(request, gettext("Choose one of this account's connections."))
        return redirect("account_sso")
    try:
        claimed = settings_flows.change_domain(
            actor,
            pk,
            connection_id=form.cleaned_data["connection"],
            just_in_time=form.cleaned_data["just_in_time"],
        )
    except NotFound as error:
        raise Http404(error.message) from None
    messages.success(
        request, gettext("The domain %(domain)s was saved.") % {"domain": claimed.domain}
    )
    return redirect("account_sso")


@administrator_required
@fresh
@require_POST
def remove_domain(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        claimed = settings_flows.remove_domain(signed_in_membership(request), pk)
    except NotFound as error:
        raise Http404(error.message) from None
    messages.success(
        request, gettext("The domain %(domain)s was removed.") % {"domain": claimed.domain}
    )
    return redirect("account_sso")


@administrator_required
@fresh
@require_POST
def verify_domain(request: HttpRequest, pk: int) -> HttpResponse:
    """Look for the domain's TXT record now; the page says what was found."""
    try:
        claimed = domain_verification.verify_domain(signed_in_membership(request), pk)
    except NotFound as error:
        raise Http404(error.message) from None
    except FlowError as error:  # record missing, DNS unavailable, verified by another account
        messages.error(request, error.message)
        return redirect("account_sso")
    messages.success(
        request, gettext("The domain %(domain)s is verified.") % {"domain": claimed.domain}
    )
    return redirect("account_sso")
