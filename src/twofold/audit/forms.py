"""The audit log's filters: one validator for the administrators' page, the CSV and the API."""

from __future__ import annotations

import binascii
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from twofold.audit.events import Event
from twofold.audit.flows import Cursor, Filters

MAX_PAGE_SIZE = 200


class AuditFilterForm(forms.Form):
    """Every field is optional: no filter shows every event of the account."""

    member = forms.EmailField(
        label=gettext_lazy("Member"),
        required=False,
        help_text=gettext_lazy("Events this person did or underwent."),
        widget=forms.EmailInput(attrs={"list": "audit-members", "autocomplete": "off"}),
    )
    event = forms.ChoiceField(
        label=gettext_lazy("Event"), required=False, choices=[("", "All events"), *Event.choices]
    )
    since = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date as YYYY-MM-DD.")},
    )
    until = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date as YYYY-MM-DD.")},
        help_text=gettext_lazy("Dates are UTC days, both included."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error(
                "until",
                forms.ValidationError(
                    gettext("The end date must be on or after the start date."), code="date_order"
                ),
            )
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            member=data.get("member") or None,
            event=data.get("event") or None,
            since=data.get("since"),
            until=data.get("until"),
        )


class AuditPageForm(AuditFilterForm):
    """The API's query: the same filters, and where a page starts (``cursor``) and its size."""

    cursor = forms.CharField(required=False, max_length=100)
    limit = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)

    def clean_cursor(self) -> Cursor | None:
        raw = self.cleaned_data.get("cursor")
        if not raw:
            return None
        try:
            return decode_cursor(raw)
        except ValueError:
            raise forms.ValidationError(
                gettext("This cursor is not one the API gave out."), code="invalid"
            ) from None


def encode_cursor(cursor: Cursor) -> str:
    """Opaque to callers: the time and id of the last event of the page before."""
    created_at, pk = cursor
    raw = f"{created_at.astimezone(UTC).isoformat()}|{pk}".encode()
    return urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> Cursor:
    try:
        raw = urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise ValueError("not a cursor") from error
    when, _, pk = raw.partition("|")
    created_at = datetime.fromisoformat(when)  # raises ValueError itself
    if created_at.tzinfo is None or not pk.isdigit():
        raise ValueError("not a cursor")
    return created_at, int(pk)
