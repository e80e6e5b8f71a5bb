"""One validator per input of the second-factor step, shared by the page and the API."""

from __future__ import annotations

from django import forms

from twofold.factors.sms.forms import ConfirmCodeForm

# The same 6-digit code input as when confirming a number: one validator per input.
SmsCodeForm = ConfirmCodeForm


class BackupCodeForm(forms.Form):
    code = forms.CharField(
        label="Backup code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
