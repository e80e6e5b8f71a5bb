"""One validator per input of the second-factor step, shared by the page and the API."""

from __future__ import annotations

from django import forms


class SmsCodeForm(forms.Form):
    code = forms.CharField(
        label="Verification code",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["code"] if ch.isdigit())
        if len(digits) != 6:
            raise forms.ValidationError("Enter the 6 digits of the code.", code="code_format")
        return digits


class BackupCodeForm(forms.Form):
    code = forms.CharField(
        label="Backup code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
