"""One validator per input of the second-factor step, shared by the page and the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from twofold.factors import methods
from twofold.factors.sms.forms import ConfirmCodeForm
from twofold.factors.totp.forms import TotpCodeForm

__all__ = [
    "BackupCodeForm",
    "ChooseMethodForm",
    "ReauthenticateForm",
    "RememberDeviceForm",
    "SmsCodeForm",
    "TotpCodeForm",
    "VerifyForm",
]

# The same 6-digit code input as when confirming a number: one validator per input.
SmsCodeForm = ConfirmCodeForm


class ChooseMethodForm(forms.Form):
    """ "Try another way": the factor to be asked for instead."""

    method = forms.ChoiceField(choices=[(m, m) for m in methods.METHODS])


class BackupCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Backup code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class RememberDeviceForm(forms.Form):
    """ "Remember this device for 30 days" on the second-factor step (``signin/remembered.py``)."""

    remember_device = forms.BooleanField(required=False)

    def wanted(self) -> bool:
        return self.is_valid() and bool(self.cleaned_data["remember_device"])


class VerifyForm(forms.Form):
    """The API's one input for any factor: ``{method, code, remember_device?}``, each code by
    its own rule."""

    # A security key answers with a signed assertion, not a code: ``…/auth/2fa/webauthn``.
    method = forms.ChoiceField(
        choices=[(m, m) for m in (*methods.METHODS, "backup_code") if m != methods.WEBAUTHN]
    )
    code = forms.CharField(max_length=32)
    remember_device = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        method, code = cleaned.get("method"), cleaned.get("code")
        if method and code and method != "backup_code":
            digits = ConfirmCodeForm({"code": code})
            if not digits.is_valid():
                self.add_error("code", digits.errors.as_data()["code"])
            else:
                cleaned["code"] = digits.cleaned_data["code"]
        return cleaned


class ReauthenticateForm(forms.Form):
    """The API's re-authentication at aal2: ``{method?, code?}``. No code asks for a text (SMS);
    a code follows its method's rule (6 digits; a backup code up to 32 characters). No method:
    the member's preferred factor (as on the page)."""

    method = forms.ChoiceField(
        choices=[(m, m) for m in (*methods.METHODS, "backup_code") if m != methods.WEBAUTHN],
        required=False,
    )
    code = forms.CharField(max_length=32, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        method, code = cleaned.get("method"), cleaned.get("code")
        if code and method != "backup_code":
            digits = ConfirmCodeForm({"code": code})
            if not digits.is_valid():
                self.add_error("code", digits.errors.as_data()["code"])
            else:
                cleaned["code"] = digits.cleaned_data["code"]
        return cleaned
