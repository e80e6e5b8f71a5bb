"""The forms of an account's applications, shared by the "Applications" pages and the JSON API
(where the URI lists may also be JSON arrays). The rules of a redirect URI are checked by the
flows (``idp/applications.py``), for the operator's command too."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from twofold.idp import subject
from twofold.idp.applications import NAME_LENGTH, SCOPES
from twofold.idp.models import Application
from twofold.sso.forms import LinesField

CONFIDENTIAL = "confidential"
PUBLIC = "public"
CLIENT_TYPES = [
    (CONFIDENTIAL, "Confidential: a server-side application that keeps a secret"),
    (PUBLIC, "Public: a single-page or mobile application (no secret; PKCE)"),
]
SUBJECT_CHOICES = [
    (subject.PUBLIC, "The member's id, the same in every application"),
    (subject.PAIRWISE, "Pairwise: a different id for this application only"),
]
_SCOPE_MEANINGS = {
    "openid": "who signed in, and how strongly",
    "profile": "their name",
    "email": "their email address",
}
SCOPE_CHOICES = [(scope, f"{scope}: {_SCOPE_MEANINGS[scope]}") for scope in SCOPES]


def _stripped(value: str) -> str:
    return value.strip()


class ApplicationChangeForm(forms.Form):
    name = forms.CharField(max_length=NAME_LENGTH)
    redirect_uris = LinesField(
        item=_stripped,
        label=gettext_lazy("Redirect URIs"),
        help_text=gettext_lazy(
            "One per line, matched exactly: https://app.example.com/oidc/callback"
        ),
    )
    post_logout_redirect_uris = LinesField(
        item=_stripped,
        label=gettext_lazy("Post-logout redirect URIs"),
        help_text=gettext_lazy(
            "Where the application may send people after signing them out (optional)."
        ),
    )
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("What the application may ask for. openid is required."),
    )
    backchannel_logout_uri = forms.CharField(
        required=False,
        max_length=500,
        label=gettext_lazy("Back-channel logout URI"),
        help_text=gettext_lazy(
            "Twofold POSTs a signed logout token here when a session signed in to the "
            "application ends (optional; OpenID Connect Back-Channel Logout)."
        ),
    )


class ApplicationForm(ApplicationChangeForm):
    client_type = forms.ChoiceField(
        choices=CLIENT_TYPES, widget=forms.RadioSelect, label=gettext_lazy("Kind of application")
    )

    subject_type = forms.ChoiceField(
        choices=SUBJECT_CHOICES,
        widget=forms.RadioSelect,
        label=gettext_lazy("Member identifiers (sub)"),
        required=False,
    )

    field_order = [
        "name",
        "client_type",
        "redirect_uris",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "scopes",
        "subject_type",
    ]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        cleaned["confidential"] = cleaned.get("client_type") == CONFIDENTIAL
        return cleaned


def current_values(application: Application) -> dict[str, object]:
    """The change form's fields as the application has them (a page's initial values, a
    PATCH's defaults)."""
    return {
        "name": application.name,
        "redirect_uris": application.redirect_uris.split(),
        "post_logout_redirect_uris": application.post_logout_redirect_uris.split(),
        "scopes": application.allowed_scopes.split(),
        "backchannel_logout_uri": application.backchannel_logout_uri,
    }


def new_application_defaults() -> dict[str, object]:
    return {"client_type": CONFIDENTIAL, "scopes": list(SCOPES), "subject_type": subject.PUBLIC}
