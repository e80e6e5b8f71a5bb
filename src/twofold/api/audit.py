"""The audit log in the JSON API: thin skins over ``audit.flows`` and the page's filter form."""

from __future__ import annotations

from typing import TypeVar

from django import forms
from django.http import HttpResponse
from django.http.response import HttpResponseBase

from twofold import clock
from twofold.api import responses, serializers
from twofold.api.endpoint import BadInput, Call, endpoint
from twofold.audit import export, flows
from twofold.audit.forms import AuditFilterForm, AuditPageForm, encode_cursor
from twofold.organizations.models import require_administrator

FormT = TypeVar("FormT", bound=forms.Form)


def _query(call: Call, form_class: type[FormT]) -> FormT:
    """The query string checked by the page's form; a 400 listing each problem otherwise."""
    form = form_class(data=call.request.GET)
    if not form.is_valid():
        raise BadInput(responses.form_errors(form.errors.get_json_data()))
    return form


@endpoint("GET")
def audit_events(call: Call) -> HttpResponse:
    """The account's events, newest first, one page at a time (``next_cursor``)."""
    actor = call.membership
    require_administrator(actor)  # a member hears 403, whatever the query
    form = _query(call, AuditPageForm)
    page = flows.page_of(
        flows.account_events(actor, form.filters()),
        after=form.cleaned_data["cursor"],
        limit=form.cleaned_data["limit"] or flows.PAGE_SIZE,
    )
    cursor = encode_cursor(page.next_cursor) if page.next_cursor else None
    return responses.ok(
        {"items": [serializers.audit_event(e) for e in page.events], "next_cursor": cursor}
    )


@endpoint("GET")
def audit_events_csv(call: Call) -> HttpResponseBase:
    """Every event matching the filters, as the page's CSV export."""
    actor = call.membership
    require_administrator(actor)
    events = flows.account_events(actor, _query(call, AuditFilterForm).filters())
    return export.csv_response(events.iterator(chunk_size=500), now=clock.now())


@endpoint("GET")
def own_security_events(call: Call) -> HttpResponse:
    """The caller's own recent security events, as on their settings page."""
    events = flows.own_recent_events(call.membership.user)
    return responses.ok([serializers.audit_event(e) for e in events])
