"""An account's single sign-on: its SAML connections, its email domains, and how far it trusts
an identity provider's own 2FA (issue 5, DESIGN.md "SSO").

- :class:`AccountSso`: per account, for "Sign in with Google / Microsoft": the trust policy, the
  Entra tenant ids whose sign-ins are accepted, and whether members must sign in through SSO.
- :class:`SamlConnection`: an account's SAML identity provider (entity id, SSO URL, signing
  certificate from its metadata) with its own trust policy.
- :class:`EmailDomain`: a domain an account claims. A claim counts only once verified (a DNS
  TXT record ``twofold-verification=<token>`` at the domain, or an operator's word): then "Sign in
  with SSO" sends people with that domain to the account's SAML connection, and, when the account
  allows it, people of that domain who sign in through its identity providers become members
  just in time. Several accounts may claim a domain; at most one claim is verified.

Tenancy: everything here is read through ``of(organization)`` (STYLE.md rule 5).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from twofold.organizations.models import Organization


class TrustPolicy(models.TextChoices):
    IDP_TWO_FACTOR = "idp_two_factor", "The identity provider's 2FA applies"
    REQUIRE_IDP_MFA = "require_idp_mfa", "Require the identity provider to assert MFA"
    ALWAYS_OURS = "always_ours", "Always require our 2FA as well"


class WhenMfaMissing(models.TextChoices):
    OUR_TWO_FACTOR = "our_two_factor", "Ask for our 2FA instead"
    REFUSE = "refuse", "Refuse the sign-in"


# What counts as MFA when an account requires the identity provider to assert it, until the
# administrator lists their own values (OIDC ``acr``; SAML ``AuthnContextClassRef``). OIDC
# ``amr`` containing ``mfa`` always counts.
DEFAULT_MFA_CONTEXTS = [
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/claims/multipleauthn",
]


def default_mfa_contexts() -> list[str]:
    return list(DEFAULT_MFA_CONTEXTS)


class TrustPolicyFields(models.Model):
    trust = models.CharField(
        max_length=20, choices=TrustPolicy.choices, default=TrustPolicy.IDP_TWO_FACTOR
    )
    mfa_contexts = models.JSONField(
        default=default_mfa_contexts,
        help_text="acr / AuthnContextClassRef values that count as MFA",
    )
    when_mfa_missing = models.CharField(
        max_length=20, choices=WhenMfaMissing.choices, default=WhenMfaMissing.OUR_TWO_FACTOR
    )

    class Meta:
        abstract = True


class AccountSsoQuerySet(models.QuerySet["AccountSso"]):
    def of(self, organization: Organization) -> AccountSsoQuerySet:
        return self.filter(organization=organization)


class AccountSso(TrustPolicyFields):
    """An account's rules for Google and Microsoft sign-ins, and for SSO as a whole."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="sso")
    microsoft_tenants = models.JSONField(
        default=list, help_text="Entra tenant ids whose Microsoft sign-ins are accepted"
    )
    require_sso = models.BooleanField(
        default=False, help_text="members sign in through SSO only (administrators keep passwords)"
    )

    objects = AccountSsoQuerySet.as_manager()

    def __str__(self) -> str:
        return f"SSO of {self.organization}"


def new_slug() -> str:
    return secrets.token_hex(8)


class SamlConnectionQuerySet(models.QuerySet["SamlConnection"]):
    def of(self, organization: Organization) -> SamlConnectionQuerySet:
        return self.filter(organization=organization)


class SamlConnection(TrustPolicyFields):
    """An account's SAML identity provider. Its ``slug`` names it in URLs and in the members'
    links: a subject is keyed by (connection, NameID) as allauth ``SocialAccount`` with
    ``provider = "saml-<slug>"``."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="saml_connections"
    )
    slug = models.CharField(max_length=32, unique=True, default=new_slug, editable=False)
    name = models.CharField(max_length=100)
    idp_entity_id = models.CharField(max_length=1024)
    idp_sso_url = models.URLField(max_length=1024)
    idp_certificate = models.TextField(help_text="the IdP's signing certificate (PEM)")
    allow_idp_initiated = models.BooleanField(
        default=False, help_text="accept unsolicited (IdP-initiated) responses"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SamlConnectionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idp_entity_id"], name="sso_one_connection_per_idp"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"

    @property
    def provider_id(self) -> str:
        return f"{SAML_PROVIDER_PREFIX}{self.slug}"


SAML_PROVIDER_PREFIX = "saml-"


class EmailDomainQuerySet(models.QuerySet["EmailDomain"]):
    def of(self, organization: Organization) -> EmailDomainQuerySet:
        return self.filter(organization=organization)

    def verified(self) -> EmailDomainQuerySet:
        """Only these claims do anything (sso/domain_verification.py)."""
        return self.filter(verified_at__isnull=False)


# The TXT record that proves a claim: ``twofold-verification=<the claim's token>``.
VERIFICATION_PREFIX = "twofold-verification="


def new_verification_token() -> str:
    # Per claim and unguessable: another account's claim of the domain cannot reuse its record.
    return secrets.token_hex(16)


class VerifiedBy(models.TextChoices):
    DNS = "dns", "DNS TXT record"
    OPERATOR = "operator", "Operator (twofold verify-domain)"


class EmailDomain(models.Model):
    """A domain an account claims: one claim per account and domain, at most one verified claim
    per domain across Twofold (``sso_one_verified_claim_per_domain``)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="email_domains"
    )
    domain = models.CharField(max_length=253)
    connection = models.ForeignKey(
        SamlConnection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="domains",
        help_text='"Sign in with SSO" sends people of this domain to this connection',
    )
    just_in_time = models.BooleanField(
        default=False,
        help_text="people of this domain signing in through the account's identity providers "
        "become members",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    verification_token = models.CharField(
        max_length=64, default=new_verification_token, editable=False
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=10, choices=VerifiedBy.choices, blank=True)
    checked_at = models.DateTimeField(
        null=True, blank=True, help_text="the last periodic check (twofold check-domains)"
    )
    missed_checks = models.PositiveSmallIntegerField(
        default=0, help_text="checks in a row that found the TXT record gone"
    )

    objects = EmailDomainQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"], name="sso_one_claim_per_account_and_domain"
            ),
            # The database, not a read before the write: two accounts verifying at once cannot
            # both win.
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(verified_at__isnull=False),
                name="sso_one_verified_claim_per_domain",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def txt_record(self) -> str:
        """The TXT record's value the domain's owner publishes at the domain."""
        return f"{VERIFICATION_PREFIX}{self.verification_token}"
