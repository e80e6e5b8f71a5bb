"""Inputs of the authenticator-app pages and endpoints: one validator each, shared."""

from __future__ import annotations

from django.utils.translation import gettext

from twofold.factors.sms.forms import ConfirmCodeForm


class TotpCodeForm(ConfirmCodeForm):
    """The 6-digit code the app shows (spaces allowed): the same rule as for texted codes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["code"].label = gettext("Code from your authenticator app")
