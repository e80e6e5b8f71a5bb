"""The forms of an account's single sign-on, shared by the "Account & Security" pages and the
JSON API (where list fields may also be JSON arrays)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext, gettext_lazy

from twofold import clock
from twofold.sso import idp_metadata
from twofold.sso.domains import ascii_domain
from twofold.sso.idp_metadata import InvalidIdp
from twofold.sso.models import SamlConnection, TrustPolicy, WhenMfaMissing

MAX_LIST_ITEMS = 20
MAX_CONTEXT_CHARS = 1024
LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
DOMAIN_MESSAGE = gettext_lazy("Enter a domain name such as acme.com.")


class LinesField(forms.Field):
    """One value per line on a page; a list of strings in the API. Blank lines and repeats are
    dropped; ``item`` checks and normalizes each value."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, item: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.item = item

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        if isinstance(value, str):
            lines = value.splitlines()
        elif isinstance(value, list) and all(isinstance(line, str) for line in value):
            lines = value
        else:
            raise ValidationError(gettext("Enter one value per line."), code="invalid")
        values = list(dict.fromkeys(self.item(line.strip()) for line in lines if line.strip()))
        if len(values) > MAX_LIST_ITEMS:
            raise ValidationError(
                gettext("Enter at most %(MAX_LIST_ITEMS)s values.")
                % {"MAX_LIST_ITEMS": MAX_LIST_ITEMS},
                code="too_many",
            )
        return values

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value


def mfa_context(value: str) -> str:
    if len(value) > MAX_CONTEXT_CHARS or any(c.isspace() for c in value):
        raise ValidationError(
            gettext("“%(value)s” is not an acr / AuthnContextClassRef value.")
            % {"value": value[:80]}
        )
    return value


def tenant_id(value: str) -> str:
    """An Entra tenant id, in its canonical form (lower case, with hyphens)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError(
            gettext(
                "“%(value)s” is not a tenant id "
                "(a UUID such as 9188040d-6c67-4c5b-b112-36a304b66dad)."
            )
            % {"value": value[:80]},
            code="invalid_tenant",
        ) from None


def normalized_domain(value: str) -> str:
    """A hostname as DNS stores it: lower case, international names as A-labels (IDNA)."""
    name = ascii_domain(value)
    if name is None:
        raise ValidationError(DOMAIN_MESSAGE, code="invalid")
    labels = name.split(".")
    if (
        len(labels) < 2
        or len(name) > 253
        or labels[-1].isdigit()  # an IP address is not an email domain
        or not all(LABEL.fullmatch(label) for label in labels)
    ):
        raise ValidationError(DOMAIN_MESSAGE, code="invalid")
    return name


class TrustPolicyForm(forms.Form):
    """How far the account trusts an identity provider's own 2FA."""

    contexts_required = False

    trust = forms.ChoiceField(
        label=gettext_lazy("Two-factor authentication"),
        choices=TrustPolicy.choices,
        widget=forms.RadioSelect,
    )
    mfa_contexts = LinesField(
        label=gettext_lazy("Values that count as MFA"),
        item=mfa_context,
        help_text=gettext_lazy(
            "acr / AuthnContextClassRef values, one per line, for example "
            "https://refeds.org/profile/mfa"
        ),
    )
    when_mfa_missing = forms.ChoiceField(
        label=gettext_lazy("When the identity provider does not assert MFA"),
        choices=WhenMfaMissing.choices,
        widget=forms.RadioSelect,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        needs_contexts = self.contexts_required and data.get("trust") == TrustPolicy.REQUIRE_IDP_MFA
        if needs_contexts and "mfa_contexts" in data and not data["mfa_contexts"]:
            self.add_error("mfa_contexts", "List at least one value that counts as MFA.")
        return data


class SsoSettingsForm(TrustPolicyForm):
    """ "Sign in with Google / Microsoft" and "Require SSO"."""

    microsoft_tenants = LinesField(
        label=gettext_lazy("Entra tenant ids allowed for Microsoft sign-ins"),
        item=tenant_id,
        help_text=gettext_lazy(
            "One per line. Microsoft sign-ins from any other tenant are refused."
        ),
    )
    require_sso = forms.BooleanField(
        label=gettext_lazy("Require SSO"),
        required=False,
        help_text=gettext_lazy(
            "Members sign in only through single sign-on (Google, Microsoft or your SAML "
            "identity provider): their password sign-in is refused. Administrators keep their "
            "password as a way in when the identity provider is down."
        ),
    )


class ConnectionForm(TrustPolicyForm):
    """A SAML connection: from the identity provider's metadata (uploaded or pasted), or from
    its entity id, SSO URL and certificate; the metadata wins when both are given."""

    contexts_required = True  # SAML has no ``amr``: only listed values count

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    metadata_file = forms.FileField(label=gettext_lazy("Metadata file (XML)"), required=False)
    metadata = forms.CharField(
        label=gettext_lazy("Or paste the metadata XML"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    idp_entity_id = forms.CharField(
        label=gettext_lazy("Identity provider entity id"), required=False
    )
    idp_sso_url = forms.CharField(
        label=gettext_lazy("SSO URL (HTTP-Redirect binding)"),
        required=False,
        help_text=gettext_lazy("https:// (http only for 127.0.0.1 or localhost)"),
    )
    idp_certificate = forms.CharField(
        label=gettext_lazy("Signing certificate (PEM)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    allow_idp_initiated = forms.BooleanField(
        label=gettext_lazy("Allow sign-ins started at the identity provider (IdP-initiated)"),
        required=False,
        help_text=gettext_lazy(
            "Leave this off unless your identity provider's portal needs it: a response "
            "Twofold did not ask for cannot be tied to a sign-in started in this browser, so "
            "someone could sign a person into an account they do not expect (login CSRF)."
        ),
    )

    field_order = [
        "name",
        "metadata_file",
        "metadata",
        "idp_entity_id",
        "idp_sso_url",
        "idp_certificate",
        "trust",
        "mfa_contexts",
        "when_mfa_missing",
        "allow_idp_initiated",
    ]

    def clean_metadata_file(self) -> bytes:
        upload: UploadedFile | None = self.cleaned_data.get("metadata_file")
        if upload is None:
            return b""
        if (upload.size or 0) > idp_metadata.MAX_METADATA_BYTES:
            # Not ``too_large``: that is the API's 413 for a request body.
            raise ValidationError(
                gettext("The file is larger than %(size)s kB.")
                % {"size": idp_metadata.MAX_METADATA_BYTES // 1024},
                code="file_too_large",
            )
        return upload.read(idp_metadata.MAX_METADATA_BYTES + 1)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        metadata = data.pop("metadata_file", b"") or data.get("metadata", "")
        data.pop("metadata", None)
        if metadata:
            self._from_metadata(data, metadata)
        else:
            self._from_fields(data)
        return data

    def _from_metadata(self, data: dict[str, Any], metadata: bytes | str) -> None:
        try:
            idp = idp_metadata.from_metadata(metadata, now=clock.now())
        except InvalidIdp as invalid:
            self.add_error("metadata", invalid.message)
            return
        data["idp_entity_id"] = idp.entity_id
        data["idp_sso_url"] = idp.sso_url
        data["idp_certificate"] = idp.certificate.pem

    def _from_fields(self, data: dict[str, Any]) -> None:
        checks: dict[str, Callable[[str], str]] = {
            "idp_entity_id": idp_metadata.checked_entity_id,
            "idp_sso_url": idp_metadata.checked_sso_url,
            "idp_certificate": lambda pem: (
                idp_metadata.checked_certificate(pem, now=clock.now()).pem
            ),
        }
        for field, check in checks.items():
            try:
                data[field] = check(data.get(field, ""))
            except InvalidIdp as invalid:
                message = invalid.message
                if not data.get(field):
                    message = f"{message.rstrip('.')}, or give the identity provider's metadata."
                self.add_error(field, message)


class EmailDomainChangeForm(forms.Form):
    connection = forms.IntegerField(
        label=gettext_lazy('Connection for "Sign in with SSO"'), required=False
    )
    just_in_time = forms.BooleanField(
        label=gettext_lazy("Members join just in time"),
        required=False,
        help_text=gettext_lazy(
            "People of this domain signing in through your identity providers become "
            "members of this account."
        ),
    )

    def __init__(
        self, *args: Any, connections: Iterable[SamlConnection] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if connections is not None:  # a page: a list of the account's (the flow checks again)
            self.fields["connection"] = forms.TypedChoiceField(
                label=self.fields["connection"].label,
                choices=[("", "None"), *((c.pk, c.name) for c in connections)],
                coerce=int,
                empty_value=None,
                required=False,
            )


class EmailDomainForm(EmailDomainChangeForm):
    domain = forms.CharField(
        label=gettext_lazy("Domain"), max_length=253, help_text=gettext_lazy("For example acme.com")
    )

    field_order = ["domain", "connection", "just_in_time"]

    def clean_domain(self) -> str:
        return normalized_domain(self.cleaned_data["domain"])


class SsoEmailForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Work email"),
        max_length=254,
        error_messages={
            "required": gettext_lazy("Enter your work email."),
            "invalid": gettext_lazy("Enter a valid email."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
