"""The administrators' audit log page and its CSV export: thin skins over ``flows``.

The filters are read by :class:`AuditFilterForm`, the same validator as the JSON API's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from twofold import clock
from twofold.audit import export, flows
from twofold.audit.forms import AuditFilterForm
from twofold.audit.models import AuditEventQuerySet
from twofold.factors.member_list import list_members
from twofold.web.decorators import signed_in_membership

View = Callable[..., HttpResponseBase]
TEMPLATE = "audit/log.html"


def administrators_only(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        membership = signed_in_membership(request)
        if membership is None or not membership.is_administrator:
            return render(request, "twofold/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _page(
    request: HttpRequest, form: AuditFilterForm, events: AuditEventQuerySet | None = None
) -> HttpResponse:
    """The log; without events (filters refused) it answers 400 with the form's messages."""
    page = None
    if events is not None:
        # get_page: a page number that is not one shows the first or the last page, never a 500.
        page = Paginator(events, flows.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "members": list_members(signed_in_membership(request)),
        "page": page,
        "retention_days": settings.TWOFOLD.audit_retention_days,
    }
    return render(request, TEMPLATE, context, status=400 if page is None else 200)


@administrators_only
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _page(request, form)
    return _page(request, form, flows.account_events(signed_in_membership(request), form.filters()))


@administrators_only
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The filtered events as a CSV download (all pages)."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _page(request, form)
    events = flows.account_events(signed_in_membership(request), form.filters())
    return export.csv_response(events.iterator(chunk_size=500), now=clock.now())
