"""One validator per input, shared by the pages and the JSON API."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.utils.translation import gettext, gettext_lazy

from twofold.errors import StrOrPromise
from twofold.organizations import language
from twofold.organizations.models import Role
from twofold.users.models import User
from twofold.users.passwords import check_context_words


class AccountSignupForm(forms.Form):
    """Extra sign-up field: the name of the new account (organization)."""

    organization_name = forms.CharField(
        label=gettext_lazy("Company or account name"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"autocomplete": "organization", "placeholder": gettext_lazy("Acme Inc.")}
        ),
    )

    def clean_organization_name(self) -> str:
        name = str(self.cleaned_data["organization_name"]).strip()
        if not name:
            raise forms.ValidationError(gettext("Enter the name of your company or account."))
        return name

    def clean(self) -> dict[str, Any]:
        """The new account's name joins the context words a password may not be built on."""
        cleaned = super().clean() or {}
        field = "password1" if "password1" in self.fields else "password"  # page / headless API
        password, name = cleaned.get(field), cleaned.get("organization_name")
        if password and name:
            try:
                check_context_words(password, User(email=cleaned.get("email", "")), extra=[name])
            except forms.ValidationError as error:
                self.add_error(field, error)
        return cleaned

    def signup(self, request: Any, user: Any) -> None:
        """Required by allauth; the organization is created atomically in the adapter."""


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER, required=False)

    def clean_role(self) -> str:
        # Optional in the API (openapi.yaml): an invitation without a role is for a member.
        return str(self.cleaned_data["role"] or Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class MemberFilterForm(forms.Form):
    """The members list's filter: ``?two_factor=off`` on the page and in the API."""

    two_factor = forms.ChoiceField(
        label=gettext_lazy("Show"),
        choices=[("", "Everyone"), ("off", "Without two-factor authentication")],
        required=False,
    )

    def without_two_factor(self) -> bool:
        return self.is_valid() and self.cleaned_data["two_factor"] == "off"


def _country_choices() -> list[tuple[str, str]]:
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    return [(r, f"{r} (+{phonenumbers.country_code_for_region(r)})") for r in regions]


def _default_language_choices() -> list[tuple[str, StrOrPromise]]:
    return [("", gettext_lazy("The browser's language")), *language.choices()]


class OrganizationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Account name"), max_length=100)
    default_language = forms.ChoiceField(
        label=gettext_lazy("Members' language"),
        choices=_default_language_choices,
        required=False,
        help_text=gettext_lazy(
            "Twofold speaks this language to members who have not chosen one themselves."
        ),
    )
    default_country = forms.ChoiceField(
        label=gettext_lazy("Country for phone numbers"),
        choices=_country_choices,
        required=False,
        help_text=gettext_lazy("Preselected when members enter their mobile number."),
    )


class MemberLanguageForm(forms.Form):
    """The member's language (``PATCH /api/v1/me/preferences``, the language switch)."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language"), choices=_default_language_choices, required=False
    )


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("At least 8 characters. Long passphrases are welcome."),
    )
