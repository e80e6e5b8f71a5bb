"""Inputs of the security-key pages and endpoints: one validator each, shared."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from twofold.factors.webauthn.flows import NAME_MAX_LENGTH


class BeginForm(forms.Form):
    passkey = forms.BooleanField(
        required=False,
        label=gettext_lazy("Use it to sign in without a password (a passkey)"),
        help_text=gettext_lazy("Your device asks for its PIN, fingerprint or face each time."),
    )


class NameForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, label=gettext_lazy("Name"), strip=True)


class RegisterForm(NameForm):
    credential = forms.JSONField(widget=forms.HiddenInput)

    def clean_credential(self) -> dict[str, object]:
        value = self.cleaned_data["credential"]
        if not isinstance(value, dict):
            raise forms.ValidationError(gettext("Ask your security key again."), code="invalid")
        return value


class CredentialForm(forms.Form):
    """The browser's ``PublicKeyCredential`` as JSON (WebAuthn Level 3 ``toJSON()``)."""

    credential = forms.JSONField()

    def clean_credential(self) -> dict[str, Any]:
        value = self.cleaned_data["credential"]
        if not isinstance(value, dict):
            raise forms.ValidationError(
                gettext("Send the credential as a JSON object."), code="invalid"
            )
        return value
