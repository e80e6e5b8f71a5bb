""" "Account & Security" → "Single sign-on": an administrator's SAML connections, email domains
and Google / Microsoft settings (sso/connections.py and sso/settings_flows.py, through the pages
of web/sso/settings.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, signed_in
from tests.peers.harness import SamlIdp, local_browser
from tests.sso.certificates import (
    ENTITY_ID,
    POST,
    SSO_URL,
    bare,
    certificate_pem,
    key_descriptor,
    metadata_xml,
)
from tests.sso.saml import acme_idp, sign_in  # noqa: F401
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import Conflict, NotAllowed, NotFound
from twofold.organizations.models import Membership
from twofold.sso import connections, settings_flows
from twofold.sso.idp_metadata import MAX_METADATA_BYTES
from twofold.sso.models import AccountSso, EmailDomain, SamlConnection, TrustPolicy

pytestmark = pytest.mark.django_db

SSO = "/account/sso/"
CONNECTIONS = "/account/sso/connections/"
DOMAINS = "/account/sso/domains/"
SETTINGS = "/account/sso/settings"
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
POLICY = {
    "trust": TrustPolicy.IDP_TWO_FACTOR,
    "mfa_contexts": "https://refeds.org/profile/mfa",
    "when_mfa_missing": "our_two_factor",
}


@pytest.fixture
def administrator_client(administrator: Membership) -> Client:
    """Signed in just now: the changes here need a recent authentication (ASVS 7.5.1)."""
    return freshly_signed_in(Client(), administrator)


def pasted(**fields: str) -> dict[str, str]:
    """The new-connection form with entity id, SSO URL and certificate pasted."""
    values = {
        "name": "Acme IdP",
        "idp_entity_id": ENTITY_ID,
        "idp_sso_url": SSO_URL,
        "idp_certificate": certificate_pem(),
        **POLICY,
    }
    return {**values, **fields}


def text(response: Any) -> str:
    return str(response.content.decode())


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def connection_of(administrator: Membership, **fields: Any) -> SamlConnection:
    values = {
        "name": "Acme IdP",
        "idp_entity_id": ENTITY_ID,
        "idp_sso_url": SSO_URL,
        "idp_certificate": certificate_pem(),
        "mfa_contexts": ["https://refeds.org/profile/mfa"],
        **fields,
    }
    return SamlConnection.objects.create(organization=administrator.organization, **values)


@pytest.fixture
def connection(administrator: Membership) -> SamlConnection:
    return connection_of(administrator)


# --- Creating a connection -----------------------------------------------------------------------


def test_connection_is_created_from_uploaded_metadata_and_audited(
    administrator: Membership, administrator_client: Client
) -> None:
    pem = certificate_pem(common_name="idp.acme.test")
    upload = SimpleUploadedFile("idp.xml", metadata_xml(keys=key_descriptor(pem)).encode())

    answer = administrator_client.post(
        CONNECTIONS, {"name": "Acme IdP", "metadata_file": upload, **POLICY}
    )

    created = SamlConnection.objects.get()
    assert answer["Location"] == f"{CONNECTIONS}{created.pk}/"
    assert (created.organization, created.idp_entity_id, created.idp_sso_url) == (
        administrator.organization,
        ENTITY_ID,
        SSO_URL,
    )
    assert bare(created.idp_certificate) == bare(pem)
    assert created.allow_idp_initiated is False  # off unless ticked
    event = AuditEvent.objects.get(event=Event.SSO_CONNECTION_CREATED)
    assert event.actor == administrator.user
    assert event.detail["idp_entity_id"] == ENTITY_ID
    assert "BEGIN CERTIFICATE" not in str(event.detail)


def test_connection_is_created_from_pasted_metadata(administrator_client: Client) -> None:
    administrator_client.post(
        CONNECTIONS, {"name": "Acme IdP", "metadata": metadata_xml(), **POLICY}
    )

    assert SamlConnection.objects.get().idp_sso_url == SSO_URL


def test_connection_is_created_from_pasted_values_and_shows_the_certificate(
    administrator_client: Client,
) -> None:
    answer = administrator_client.post(
        CONNECTIONS, pasted(idp_certificate=bare(certificate_pem(common_name="pasted.acme.test")))
    )

    page = text(administrator_client.get(answer["Location"]))
    assert "CN=pasted.acme.test" in page
    assert "Certificate expires" in page


BAD_METADATA = [
    pytest.param("this is not xml", "This is not valid XML", id="not-xml"),
    pytest.param(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        "This is not valid XML",
        id="dtd-with-entities",
    ),
    pytest.param("<html><body>Sign in</body></html>", "no IDPSSODescriptor", id="not-metadata"),
    pytest.param(metadata_xml(keys=""), "no signing certificate", id="no-certificate"),
    pytest.param(
        metadata_xml(keys=key_descriptor(certificate_pem(), use="encryption")),
        "no signing certificate",
        id="encryption-key-only",
    ),
    pytest.param(metadata_xml(binding=POST), "HTTP-Redirect", id="post-binding-only"),
    pytest.param(
        metadata_xml(
            keys=key_descriptor(certificate_pem())
            + key_descriptor(certificate_pem(common_name="other"))
        ),
        "several signing certificates",
        id="two-signing-certificates",
    ),
    pytest.param(
        metadata_xml(keys=key_descriptor(certificate_pem(valid_for=-timedelta(days=1)))),
        "This certificate expired",
        id="expired-certificate",
    ),
    pytest.param(
        metadata_xml(sso_url="http://idp.acme.test/saml/sso"), "must use https", id="plain-http"
    ),
    pytest.param("<x>" + " " * MAX_METADATA_BYTES + "</x>", "larger than 256 kB", id="too-large"),
]


@pytest.mark.parametrize(("metadata", "message"), BAD_METADATA)
def test_bad_metadata_is_refused_with_a_clear_message(
    administrator_client: Client, metadata: str, message: str
) -> None:
    answer = administrator_client.post(
        CONNECTIONS, {"name": "Acme IdP", "metadata": metadata, **POLICY}
    )

    assert answer.status_code == 400
    assert message in text(answer)
    assert 'role="alert"' in text(answer)
    assert not SamlConnection.objects.exists()


def test_oversized_metadata_file_is_refused(administrator_client: Client) -> None:
    upload = SimpleUploadedFile("idp.xml", b"<x>" + b" " * MAX_METADATA_BYTES + b"</x>")

    answer = administrator_client.post(
        CONNECTIONS, {"name": "Acme IdP", "metadata_file": upload, **POLICY}
    )

    assert answer.status_code == 400
    assert "The file is larger than 256 kB" in text(answer)
    assert answer.context["form"].errors.as_data()["metadata_file"][0].code == "file_too_large"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"idp_certificate": certificate_pem(valid_for=-timedelta(days=2))},
            "This certificate expired on",
            id="expired-certificate",
        ),
        pytest.param(
            {"idp_certificate": "not a certificate"}, "This is not a certificate", id="pem"
        ),
        pytest.param({"idp_sso_url": "http://idp.acme.test/sso"}, "must use https", id="http"),
        pytest.param({"idp_sso_url": "javascript:alert(1)"}, "Enter the identity", id="scheme"),
        pytest.param({"idp_entity_id": ""}, "or give the identity provider", id="none"),
        pytest.param(
            {"trust": TrustPolicy.REQUIRE_IDP_MFA, "mfa_contexts": ""},
            "List at least one value that counts as MFA",
            id="mfa-without-values",
        ),
    ],
)
def test_bad_pasted_values_are_refused(
    administrator_client: Client, fields: dict[str, str], message: str
) -> None:
    answer = administrator_client.post(CONNECTIONS, pasted(**fields))

    assert answer.status_code == 400
    assert message in text(answer)
    assert not SamlConnection.objects.exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/sso", "http://localhost:8080/sso"])
def test_plain_http_sso_url_is_accepted_on_this_machine_only(
    administrator_client: Client, url: str
) -> None:
    administrator_client.post(CONNECTIONS, pasted(idp_sso_url=url))

    assert SamlConnection.objects.get().idp_sso_url == url


def test_second_connection_to_the_same_identity_provider_is_refused(
    administrator_client: Client, connection: SamlConnection
) -> None:
    answer = administrator_client.post(CONNECTIONS, pasted(name="Again"))

    assert answer.status_code == 400
    assert "already has a connection to this identity provider" in text(answer)
    assert SamlConnection.objects.count() == 1


def test_require_mfa_policy_keeps_the_listed_values(administrator_client: Client) -> None:
    administrator_client.post(
        CONNECTIONS,
        pasted(
            trust=TrustPolicy.REQUIRE_IDP_MFA,
            mfa_contexts="https://refeds.org/profile/mfa\n\n"
            "http://schemas.microsoft.com/claims/multipleauthn\n",
            when_mfa_missing="refuse",
            allow_idp_initiated="on",
        ),
    )

    created = SamlConnection.objects.get()
    assert created.trust == TrustPolicy.REQUIRE_IDP_MFA
    assert created.mfa_contexts == [
        "https://refeds.org/profile/mfa",
        "http://schemas.microsoft.com/claims/multipleauthn",
    ]
    assert (created.when_mfa_missing, created.allow_idp_initiated) == ("refuse", True)


# --- The connection's page: Twofold's values, changes, test sign-in, deletion --------------------


def test_connection_page_shows_twofolds_values_for_the_identity_provider(
    administrator_client: Client, connection: SamlConnection
) -> None:
    page = text(administrator_client.get(f"{CONNECTIONS}{connection.pk}/"))

    metadata = f"http://testserver/accounts/saml/{connection.slug}/metadata/"
    assert f'<code id="sp-entity">{metadata}</code>' in page
    assert f'<code id="sp-metadata">{metadata}</code>' in page
    assert f"http://testserver/accounts/saml/{connection.slug}/acs/" in page
    assert f'href="{metadata}"' in page
    assert "Run a test sign-in" in page
    assert "login CSRF" in page  # the warning next to the IdP-initiated tickbox


def test_changing_a_connection_is_audited_with_what_changed(
    administrator: Membership, administrator_client: Client, connection: SamlConnection
) -> None:
    new_certificate = certificate_pem(common_name="rolled.acme.test")

    answer = administrator_client.post(
        f"{CONNECTIONS}{connection.pk}/",
        pasted(name="Acme Okta", idp_certificate=new_certificate, trust=TrustPolicy.ALWAYS_OURS),
    )

    assert answer["Location"] == f"{CONNECTIONS}{connection.pk}/"
    connection.refresh_from_db()
    assert (connection.name, connection.trust) == ("Acme Okta", TrustPolicy.ALWAYS_OURS)
    event = AuditEvent.objects.get(event=Event.SSO_CONNECTION_CHANGED)
    assert event.detail["name"] == {"from": "Acme IdP", "to": "Acme Okta"}
    assert set(event.detail) >= {"certificate_sha256", "trust"}
    assert "idp_sso_url" not in event.detail  # unchanged


def test_test_sign_in_button_goes_to_the_identity_provider(
    administrator_client: Client, connection: SamlConnection
) -> None:
    answer = administrator_client.post(f"{CONNECTIONS}{connection.pk}/test")

    assert answer.status_code == 302
    assert answer["Location"].startswith(f"{SSO_URL}?SAMLRequest=")


def test_deleting_a_connection_asks_first_then_removes_its_links_and_is_audited(
    administrator: Membership,
    member: Membership,
    administrator_client: Client,
    connection: SamlConnection,
) -> None:
    SocialAccount.objects.create(user=member.user, provider=connection.provider_id, uid="bob")
    claimed = EmailDomain.objects.create(
        organization=administrator.organization, domain="acme.test", connection=connection
    )
    delete = f"{CONNECTIONS}{connection.pk}/delete"

    confirm = administrator_client.get(delete)
    assert "the 1 member linked to it" in text(confirm)
    assert SamlConnection.objects.exists()

    answer = administrator_client.post(delete)

    assert answer["Location"] == SSO
    assert not SamlConnection.objects.exists()
    assert not SocialAccount.objects.exists()
    claimed.refresh_from_db()
    assert claimed.connection is None  # the domain stays claimed
    event = AuditEvent.objects.get(event=Event.SSO_CONNECTION_DELETED)
    assert event.detail == {"connection": "Acme IdP", "links_removed": 1}


# --- Email domains -------------------------------------------------------------------------------


def test_domain_is_claimed_lower_cased_with_its_connection_and_audited(
    administrator: Membership, administrator_client: Client, connection: SamlConnection
) -> None:
    answer = administrator_client.post(
        DOMAINS, {"domain": " Acme.TEST. ", "connection": connection.pk, "just_in_time": "on"}
    )

    assert answer["Location"] == SSO
    claimed = EmailDomain.objects.get()
    assert (claimed.domain, claimed.connection, claimed.just_in_time) == (
        "acme.test",
        connection,
        True,
    )
    event = AuditEvent.objects.get(event=Event.SSO_SETTINGS_CHANGED)
    assert event.detail["domain"] == "acme.test"
    assert event.detail["domain_action"] == "added"


def test_international_domain_is_kept_as_its_idna_form(administrator: Membership) -> None:
    from twofold.sso.forms import normalized_domain

    assert normalized_domain("Bücher.Example") == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "domain", ["acme", "-acme.test", "acme..test", "192.168.1.10", "ac_me.test", "ac me.test", ""]
)
def test_invalid_domain_is_refused(administrator_client: Client, domain: str) -> None:
    answer = administrator_client.post(DOMAINS, {"domain": domain})

    assert answer.status_code == 400
    assert 'role="alert"' in text(answer)
    assert not EmailDomain.objects.exists()


def test_domain_claimed_by_another_account_is_refused_without_naming_it(
    administrator_client: Client, other_administrator: Membership
) -> None:
    EmailDomain.objects.create(
        organization=other_administrator.organization, domain="acme.test", verified_at=clock.now()
    )

    answer = administrator_client.post(DOMAINS, {"domain": "ACME.test"})

    assert answer.status_code == 400
    assert "This domain is already claimed by another account." in text(answer)
    assert other_administrator.organization.name not in text(answer)
    assert EmailDomain.objects.get().organization == other_administrator.organization


def test_domain_cannot_point_at_another_accounts_connection(
    administrator: Membership, other_administrator: Membership
) -> None:
    theirs = connection_of(other_administrator)

    with pytest.raises(NotFound):
        settings_flows.add_domain(
            administrator, "acme.test", connection_id=theirs.pk, just_in_time=False
        )
    assert not EmailDomain.objects.exists()


def test_domain_settings_change_and_removal(
    administrator: Membership, administrator_client: Client, connection: SamlConnection
) -> None:
    claimed = EmailDomain.objects.create(
        organization=administrator.organization, domain="acme.test"
    )
    prefix = f"domain-{claimed.pk}"

    administrator_client.post(
        f"{DOMAINS}{claimed.pk}",
        {f"{prefix}-connection": connection.pk, f"{prefix}-just_in_time": "on"},
    )
    claimed.refresh_from_db()
    assert (claimed.connection, claimed.just_in_time) == (connection, True)

    administrator_client.post(f"{DOMAINS}{claimed.pk}/remove")
    assert not EmailDomain.objects.exists()
    actions = [
        e.detail["domain_action"]
        for e in AuditEvent.objects.filter(event=Event.SSO_SETTINGS_CHANGED).order_by("pk")
    ]
    assert actions == ["changed", "removed"]


def test_same_account_claiming_a_domain_twice_is_told_so(administrator: Membership) -> None:
    settings_flows.add_domain(administrator, "acme.test", connection_id=None, just_in_time=False)

    with pytest.raises(Conflict, match="This account already claims this domain"):
        settings_flows.add_domain(
            administrator, "acme.test", connection_id=None, just_in_time=False
        )


# --- Google / Microsoft and "Require SSO" --------------------------------------------------------


def test_settings_are_created_on_first_save_and_audited(
    administrator: Membership, administrator_client: Client
) -> None:
    assert not AccountSso.objects.exists()

    answer = administrator_client.post(
        SETTINGS,
        {
            **POLICY,
            "trust": TrustPolicy.REQUIRE_IDP_MFA,
            "microsoft_tenants": f"{TENANT.upper()}\n\n{TENANT}",
            "require_sso": "on",
        },
    )

    assert answer["Location"] == SSO
    saved = AccountSso.objects.get(organization=administrator.organization)
    assert (saved.trust, saved.microsoft_tenants, saved.require_sso) == (
        TrustPolicy.REQUIRE_IDP_MFA,
        [TENANT],
        True,
    )
    event = AuditEvent.objects.get(event=Event.SSO_SETTINGS_CHANGED)
    assert event.detail["require_sso"] == {"from": False, "to": True}
    assert event.detail["microsoft_tenants"] == {"from": [], "to": [TENANT]}


def test_saving_unchanged_settings_writes_no_audit_event(administrator: Membership) -> None:
    current = settings_flows.sso_settings(administrator)
    fields = {f: getattr(current, f) for f in settings_flows.SETTINGS_FIELDS}

    settings_flows.change_settings(administrator, fields)

    assert not AuditEvent.objects.filter(event=Event.SSO_SETTINGS_CHANGED).exists()


def test_tenant_id_that_is_not_a_uuid_is_refused(administrator_client: Client) -> None:
    answer = administrator_client.post(
        SETTINGS, {**POLICY, "microsoft_tenants": f"{TENANT}\ncontoso.onmicrosoft.com"}
    )

    assert answer.status_code == 400
    assert "“contoso.onmicrosoft.com” is not a tenant id" in text(answer)
    assert not AccountSso.objects.exists()


def test_page_explains_require_sso_and_just_in_time(administrator_client: Client) -> None:
    page = text(administrator_client.get(SSO))

    assert (
        "Administrators keep their password as a way in when the identity provider is down" in page
    )
    assert "become members" in page
    assert 'enctype="multipart/form-data"' in page


def test_account_page_links_to_single_sign_on(administrator_client: Client) -> None:
    assert f'href="{SSO}"' in text(administrator_client.get("/account/"))


# --- Who may --------------------------------------------------------------------------------------


def member_requests(connection: SamlConnection) -> list[tuple[str, str]]:
    pk = connection.pk
    return [
        ("GET", SSO),
        ("POST", SETTINGS),
        ("POST", CONNECTIONS),
        ("GET", f"{CONNECTIONS}{pk}/"),
        ("POST", f"{CONNECTIONS}{pk}/"),
        ("POST", f"{CONNECTIONS}{pk}/delete"),
        ("POST", f"{CONNECTIONS}{pk}/test"),
        ("POST", DOMAINS),
    ]


def test_members_get_403_on_every_page(member_client: Client, connection: SamlConnection) -> None:
    for method, path in member_requests(connection):
        answer = member_client.post(path, pasted()) if method == "POST" else member_client.get(path)
        assert answer.status_code == 403, f"{method} {path}"
    assert SamlConnection.objects.get() == connection
    assert not AuditEvent.objects.filter(event__startswith="sso.").exists()


def test_flows_refuse_members(member: Membership, connection: SamlConnection) -> None:
    with pytest.raises(NotAllowed):
        connections.get_connection(member, connection.pk)
    with pytest.raises(NotAllowed):
        connections.delete_connection(member, connection.pk)


def test_another_accounts_connection_is_a_404(
    other_administrator: Membership, connection: SamlConnection
) -> None:
    # Signed in just now: the 404 is the account boundary, not a re-authentication prompt.
    client = freshly_signed_in(Client(), other_administrator)

    for path in (f"{CONNECTIONS}{connection.pk}/", f"{CONNECTIONS}{connection.pk}/delete"):
        assert client.get(path).status_code == 404
        assert client.post(path, pasted(name="Taken over")).status_code == 404
    assert SamlConnection.objects.get().name == "Acme IdP"


def test_asvs_7_5_1_sso_changes_require_recent_authentication(
    administrator: Membership, connection: SamlConnection
) -> None:
    """Pages: without a recent authentication, re-authenticate first; the change resumes."""
    claimed = EmailDomain.objects.create(organization=administrator.organization, domain="a.test")
    stale = signed_in(Client(), administrator)  # no authentication within 5 minutes
    pages = [
        ("GET", SSO, {}),
        ("POST", SETTINGS, {**POLICY, "require_sso": "on"}),
        ("POST", CONNECTIONS, pasted(name="Another IdP", idp_entity_id="urn:another")),
        ("GET", f"{CONNECTIONS}{connection.pk}/", {}),
        ("POST", f"{CONNECTIONS}{connection.pk}/", pasted(name="Renamed")),
        ("POST", f"{CONNECTIONS}{connection.pk}/delete", {}),
        ("POST", f"{CONNECTIONS}{connection.pk}/test", {}),
        ("POST", DOMAINS, {"domain": "b.test"}),
        ("POST", f"{DOMAINS}{claimed.pk}", {f"domain-{claimed.pk}-just_in_time": "on"}),
        ("POST", f"{DOMAINS}{claimed.pk}/remove", {}),
    ]
    for method, path, body in pages:
        answer = stale.post(path, body) if method == "POST" else stale.get(path)
        assert answer.status_code == 302, f"{method} {path}"
        assert answer["Location"] == f"/accounts/reauthenticate/?next={quote(path, safe='')}", path
    assert not AccountSso.objects.filter(require_sso=True).exists()
    assert [c.name for c in SamlConnection.objects.all()] == ["Acme IdP"]
    assert list(EmailDomain.objects.values_list("domain", "just_in_time")) == [("a.test", False)]

    stale.post(SETTINGS, {**POLICY, "require_sso": "on"})  # suspended until re-authentication
    resumed = stale.post(f"/accounts/reauthenticate/?next={SETTINGS}", {"password": PASSWORD})

    assert resumed["Location"] == SSO
    assert AccountSso.objects.get(organization=administrator.organization).require_sso is True
    assert stale.get(SSO).status_code == 200  # recent now: no further prompt


# --- With the real saml-idp peer ------------------------------------------------------------------


def test_connection_made_from_the_peers_metadata_signs_a_linked_member_in(
    acme_idp: SamlIdp,  # noqa: F811
    administrator_client: Client,
    member: Membership,
) -> None:
    with local_browser() as browser:
        metadata = browser.get(acme_idp.metadata_url, timeout=5).content
    upload = SimpleUploadedFile("idp.xml", metadata, content_type="application/xml")
    created = administrator_client.post(
        CONNECTIONS, {"name": "Acme IdP", "metadata_file": upload, **POLICY}
    )
    assert created.status_code == 302, text(created)[:2000]
    connection = SamlConnection.objects.get()
    assert connection.idp_entity_id == acme_idp.entity_id
    # The peer was started for the slug "acme" (its audience and ACS URL name it).
    SamlConnection.objects.filter(pk=connection.pk).update(slug="acme")
    connection.refresh_from_db()
    administrator_client.post(DOMAINS, {"domain": "acme.test", "connection": connection.pk})
    EmailDomain.objects.update(verified_at=clock.now())  # its TXT record found (DNS: elsewhere)
    SocialAccount.objects.create(
        user=member.user, provider=connection.provider_id, uid=member.user.email
    )
    browser_of_member = Client()

    answer = sign_in(browser_of_member, acme_idp, email=member.user.email)

    assert answer.status_code == 302, text(answer)[:800]
    assert answer["Location"] == "/"
    assert browser_of_member.session["_auth_user_id"] == str(member.user.pk)


def test_the_addresses_are_shown_before_any_connection_and_the_new_one_gets_them(
    administrator_client: Client,
) -> None:
    page = text(administrator_client.get(SSO))
    assert SamlConnection.objects.count() == 0
    found = re.search(
        r'<code id="next-sp-acs">http://testserver/accounts/saml/(\w+)/acs/</code>', page
    )
    assert found, "no ACS URL on the page before any connection exists"
    slug = found.group(1)
    assert f'<code id="next-sp-entity">http://testserver/accounts/saml/{slug}/metadata/' in page
    assert f'<code id="next-sp-metadata">http://testserver/accounts/saml/{slug}/metadata/' in page
    assert page.count('data-copy="next-sp-') == 3  # a copy button each (page.js shows them)
    assert slug in text(administrator_client.get(SSO))  # the same until it is used

    answer = administrator_client.post(CONNECTIONS, pasted())

    assert SamlConnection.objects.get().slug == slug
    assert f"/accounts/saml/{slug}/acs/" in text(administrator_client.get(answer["Location"]))
    assert slug not in text(administrator_client.get(SSO))  # the next connection: new addresses
