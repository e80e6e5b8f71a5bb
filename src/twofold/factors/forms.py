"""Inputs shared by every factor's pages and endpoints, and the account's 2FA policy forms: one
validator per input, shared by the pages and the JSON API."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from twofold.factors import methods
from twofold.factors.policy import GRACE_DAYS_MESSAGE, METHODS_MESSAGE
from twofold.organizations.models import MAX_GRACE_DAYS


class SecurityPolicyForm(forms.Form):
    """Mandatory 2FA on "Account & Security" and in ``PATCH /api/v1/organization/security``."""

    require_two_factor = forms.BooleanField(
        label=gettext_lazy("Require two-factor authentication for every member"),
        required=False,
        help_text=(
            gettext_lazy(
                "Once ticked, every member of the account must use two-factor authentication: "
                "members without it set it up at their next sign-in, before they get in, "
                "and nobody can turn it off."
            )
        ),
    )
    two_factor_grace_days = forms.IntegerField(
        label=gettext_lazy("Days members may postpone setting it up"),
        min_value=0,
        max_value=MAX_GRACE_DAYS,
        initial=0,
        help_text=(
            format_lazy(
                gettext_lazy(
                    '0: at their next sign-in. 1 to {days}: members may choose "Later" at '
                    "sign-in until that many days after the box was ticked."
                ),
                days=MAX_GRACE_DAYS,
            )
        ),
        error_messages={
            "required": GRACE_DAYS_MESSAGE,
            "invalid": GRACE_DAYS_MESSAGE,
            "min_value": GRACE_DAYS_MESSAGE,
            "max_value": GRACE_DAYS_MESSAGE,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def _method_choices() -> list[tuple[str, str]]:
    return [(method, str(methods.LABELS.get(method, method))) for method in methods.METHODS]


class MethodPolicyForm(forms.Form):
    """The second factors members may use and whether browsers may be remembered, on "Account &
    Security" and in ``PATCH /api/v1/organization/security``."""

    allowed_two_factor_methods = forms.MultipleChoiceField(
        label=gettext_lazy("Two-factor methods members may use"),
        choices=_method_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            gettext_lazy(
                "Members keep a method you untick, but it no longer works at sign-in: "
                "members who have no other are asked to add an allowed one at their next sign-in. "
                "Backup codes always work."
            )
        ),
        error_messages={"required": METHODS_MESSAGE},
    )
    allow_remembered_devices = forms.BooleanField(
        label=gettext_lazy('Members may tick "Remember this device for 30 days" when they sign in'),
        required=False,
        help_text=(
            gettext_lazy(
                "On a remembered browser, members sign in with their password alone for 30 days, "
                "until their two-factor methods change. Unticking it ends every remembered browser "
                "at its next use."
            )
        ),
    )


class ActivateForm(forms.Form):
    """The member says the backup codes are saved; ``flows.activate`` refuses without it.

    Not required here: the flow's rule and message apply to pages and API alike. The browser
    still asks for the tick (the ``required`` attribute).
    """

    saved_backup_codes = forms.BooleanField(
        label=gettext_lazy("I have saved my backup codes"),
        required=False,
        widget=forms.CheckboxInput(attrs={"required": True}),
    )


class PreferredForm(forms.Form):
    method = forms.ChoiceField(choices=[(m, methods.LABELS[m]) for m in methods.METHODS])
