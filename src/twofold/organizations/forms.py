"""One validator per input, shared by the pages and the JSON API."""

from __future__ import annotations

from typing import Any

from django import forms

from twofold.organizations.models import Role
from twofold.users.models import User
from twofold.users.passwords import check_context_words


class AccountSignupForm(forms.Form):
    """Extra sign-up field: the name of the new account (organization)."""

    organization_name = forms.CharField(
        label="Company or account name",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "organization", "placeholder": "Acme Inc."}),
    )

    def clean_organization_name(self) -> str:
        name = str(self.cleaned_data["organization_name"]).strip()
        if not name:
            raise forms.ValidationError("Enter the name of your company or account.")
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
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "off"})
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
        label="Show",
        choices=[("", "Everyone"), ("off", "Without two-factor authentication")],
        required=False,
    )

    def without_two_factor(self) -> bool:
        return self.is_valid() and self.cleaned_data["two_factor"] == "off"


class OrganizationForm(forms.Form):
    name = forms.CharField(label="Account name", max_length=100)


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters. Long passphrases are welcome.",
    )
