""" "Account & Security" → "Applications", for administrators: the applications that sign the
account's members in through Twofold.

Thin skins over ``idp/applications.py`` with the forms of ``idp/forms.py``, as the JSON API. The
client secret is shown on the page that answers the registration or the rotation, and never again.
An id of another account's application is a 404. Every page asks for the administrator's recent
authentication (ASVS 7.5.1), as the single sign-on pages do.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from twofold.errors import FlowError, NotFound
from twofold.idp import applications as flows
from twofold.idp.forms import (
    ApplicationChangeForm,
    ApplicationForm,
    current_values,
    new_application_defaults,
)
from twofold.idp.issuer import issuer
from twofold.idp.models import Application
from twofold.web.decorators import administrator_required, fresh, signed_in_membership

INVALID = 400
GRACE_HOURS = int(flows.SECRET_GRACE.total_seconds() // 3600)


def _add_error(form: forms.Form, error: FlowError) -> None:
    form.add_error(error.param if error.param in form.fields else None, error.message)


def _application(request: HttpRequest, pk: int) -> Application:
    try:
        return flows.get_application(signed_in_membership(request), pk)
    except NotFound as error:
        raise Http404(error.message) from None


def _list(request: HttpRequest, form: forms.Form | None = None) -> HttpResponse:
    context = {
        "applications": flows.list_applications(signed_in_membership(request)),
        "form": form or ApplicationForm(initial=new_application_defaults()),
        "issuer": issuer(),
    }
    return render(request, "twofold/applications.html", context, status=INVALID if form else 200)


def _secret_page(
    request: HttpRequest, application: Application, secret: str | None, *, status: int
) -> HttpResponse:
    context = {
        "application": application,
        "secret": secret,
        "issuer": issuer(),
        "grace_hours": GRACE_HOURS,
    }
    return render(request, "twofold/application_secret.html", context, status=status)


@administrator_required
@fresh
def applications_page(request: HttpRequest) -> HttpResponse:
    """GET: the account's applications and the form to register one; POST registers it and
    shows its client id and secret, once."""
    if request.method != "POST":
        return _list(request)
    form = ApplicationForm(request.POST)
    if form.is_valid():
        try:
            done = flows.register_for(signed_in_membership(request), form.cleaned_data)
        except FlowError as error:
            _add_error(form, error)
        else:
            return _secret_page(request, done.application, done.client_secret, status=201)
    return _list(request, form)


@administrator_required
@fresh
def application_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The application, what to configure in it, and the form to change it."""
    application = _application(request, pk)
    if request.method != "POST":
        form = ApplicationChangeForm(initial=current_values(application))
    else:
        form = ApplicationChangeForm(request.POST)
        if form.is_valid():
            try:
                flows.change_application(signed_in_membership(request), pk, form.cleaned_data)
            except FlowError as error:
                _add_error(form, error)
            else:
                messages.success(request, gettext("The application was saved."))
                return redirect("account_application", pk=pk)
    context = {
        "application": application,
        "form": form,
        "issuer": issuer(),
        "old_secret_until": flows.old_secret_valid_until(application),
        "grace_hours": GRACE_HOURS,
    }
    return render(
        request, "twofold/application.html", context, status=INVALID if form.errors else 200
    )


@administrator_required
@fresh
@require_POST
def rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    _application(request, pk)
    try:
        done = flows.rotate_secret(signed_in_membership(request), pk)
    except FlowError as error:
        messages.error(request, error.message)
        return redirect("account_application", pk=pk)
    return _secret_page(request, done.application, done.client_secret, status=200)


@administrator_required
@fresh
@require_POST
def end_old_secret(request: HttpRequest, pk: int) -> HttpResponse:
    _application(request, pk)
    flows.end_previous_secret(signed_in_membership(request), pk)
    messages.success(request, gettext("The old secret no longer works."))
    return redirect("account_application", pk=pk)


@administrator_required
@fresh
def delete_application(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    application = _application(request, pk)
    if request.method != "POST":
        return render(request, "twofold/application_delete.html", {"application": application})
    flows.delete_application(signed_in_membership(request), pk)
    messages.success(
        request, gettext("The application %(name)s was deleted.") % {"name": application.name}
    )
    return redirect("account_applications")
