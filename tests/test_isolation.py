"""Organization isolation: an administrator of one account can neither read nor change another's.

Two accounts, acme (administrator + member) and globex (other_administrator + member), each with
a deactivated member, a pending invitation, a SAML connection and a claimed email domain. Every
case runs in both directions.

To extend it when a page or endpoint is added:
- it takes an id of organization data: add ``(method, url template, body)`` to ``ID_CASES``; the
  template names the other account's ids as ``{administrator}``, ``{member}``, ``{deactivated}``,
  ``{invitation}``, ``{connection}`` or ``{domain}`` (add a field to :class:`Account` for a new
  kind of object). /api/ paths must answer a JSON 404; pages must redirect with an error message
  (those under ``NOT_FOUND_PAGES`` answer 404). Nothing may change.
- it shows organization data: add its URL to ``LISTING_CASES``; it must show none of the other
  account's names or addresses. Each person of both accounts has an audit event (a sign-in).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client

from tests.api.conftest import assert_api_response
from tests.conftest import PASSWORD, give_sms_factor, require_two_factor
from tests.sso.certificates import certificate_pem
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.audit.record import record
from twofold.factors import member_list
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms.models import SmsFactor
from twofold.organizations import flows
from twofold.organizations.models import Invitation, Membership, Organization
from twofold.sms.numbers import mask
from twofold.sso.models import AccountSso, EmailDomain, SamlConnection
from twofold.users.models import User

ID_CASES: list[tuple[str, str, dict[str, str] | None]] = [
    # JSON API
    ("GET", "/api/v1/members/{member}", None),
    ("GET", "/api/v1/members/{administrator}", None),
    ("GET", "/api/v1/members/{deactivated}", None),
    ("PATCH", "/api/v1/members/{member}", {"role": "administrator"}),
    ("PATCH", "/api/v1/members/{administrator}", {"role": "member"}),
    ("POST", "/api/v1/members/{member}/deactivate", None),
    ("POST", "/api/v1/members/{administrator}/deactivate", None),
    ("POST", "/api/v1/members/{deactivated}/reactivate", None),
    ("POST", "/api/v1/members/{member}/reset-two-factor", None),
    ("POST", "/api/v1/members/{administrator}/reset-two-factor", None),
    ("DELETE", "/api/v1/invitations/{invitation}", None),
    ("GET", "/api/v1/organization/sso/connections/{connection}", None),
    ("PATCH", "/api/v1/organization/sso/connections/{connection}", {"name": "Taken over"}),
    ("DELETE", "/api/v1/organization/sso/connections/{connection}", None),
    ("PATCH", "/api/v1/organization/sso/domains/{domain}", {"just_in_time": "true"}),
    ("DELETE", "/api/v1/organization/sso/domains/{domain}", None),
    # Pages
    ("POST", "/account/members/{member}/role", {"role": "administrator"}),
    ("POST", "/account/members/{administrator}/role", {"role": "member"}),
    ("POST", "/account/members/{member}/deactivate", None),
    ("POST", "/account/members/{administrator}/deactivate", None),
    ("POST", "/account/members/{deactivated}/reactivate", None),
    ("GET", "/account/members/{member}/reset-two-factor", None),
    ("POST", "/account/members/{member}/reset-two-factor", None),
    ("POST", "/account/members/{administrator}/reset-two-factor", None),
    ("POST", "/account/invitations/{invitation}/revoke", None),
    ("GET", "/account/sso/connections/{connection}/", None),
    ("POST", "/account/sso/connections/{connection}/", {"name": "Taken over"}),
    ("GET", "/account/sso/connections/{connection}/delete", None),
    ("POST", "/account/sso/connections/{connection}/delete", None),
    ("POST", "/account/sso/connections/{connection}/test", None),
    ("POST", "/account/sso/domains/{domain}", None),
    ("POST", "/account/sso/domains/{domain}/remove", None),
]
# Pages answering another account's id with a 404 (the others redirect with a message).
NOT_FOUND_PAGES = "/account/sso/"

LISTING_CASES: list[str] = [
    "/api/v1/me",
    "/api/v1/organization",
    "/api/v1/members",
    "/api/v1/members?two_factor=off",
    "/api/v1/invitations",
    "/",
    "/settings/security/",
    "/account/",
    "/account/members/",
    "/account/members/?two_factor=off",
    "/account/audit/",
    "/account/audit/export.csv",
    "/api/v1/audit-events",
    "/api/v1/audit-events.csv",
    "/api/v1/me/security-events",
    "/account/sso/",
    "/api/v1/organization/sso/connections",
    "/api/v1/organization/sso/domains",
]


@dataclass
class Account:
    administrator: Membership
    member: Membership
    deactivated: Membership
    invitation: Invitation
    connection: SamlConnection
    domain: EmailDomain

    def ids(self) -> dict[str, int]:
        return {
            "administrator": self.administrator.pk,
            "member": self.member.pk,
            "deactivated": self.deactivated.pk,
            "invitation": self.invitation.pk,
            "connection": self.connection.pk,
            "domain": self.domain.pk,
        }

    def visible_data(self) -> list[str]:
        """What a page or response could show of this account."""
        people = (self.administrator, self.member, self.deactivated)
        return [
            self.administrator.organization.name,
            self.invitation.email,
            *(m.user.email for m in people),
            self.connection.name,
            self.connection.idp_entity_id,
            self.domain.domain,
        ]


def _person(email: str, organization: Organization) -> Membership:
    """A member who never signs in with a password here: no slow password hash to compute."""
    user = User.objects.create_user(email, password=None)
    return Membership.objects.create(user=user, organization=organization)


def _account(administrator: Membership, member: Membership) -> Account:
    domain = administrator.user.email.partition("@")[2]
    deactivated = _person(f"dan@{domain}", administrator.organization)
    flows.deactivate_member(administrator, deactivated.pk)
    invitation = flows.invite_member(administrator, f"ivy@{domain}").invitation
    for person in (administrator, member):
        record(Event.SIGN_IN_SUCCEEDED, subject=person.user, factor="password")
    connection = SamlConnection.objects.create(
        organization=administrator.organization,
        name=f"IdP of {domain}",
        idp_entity_id=f"https://idp.{domain}/metadata",
        idp_sso_url=f"https://idp.{domain}/sso",
        idp_certificate=certificate_pem(common_name=f"idp.{domain}"),
    )
    claimed = EmailDomain.objects.create(
        organization=administrator.organization, domain=f"sso.{domain}", connection=connection
    )
    return Account(administrator, member, deactivated, invitation, connection, claimed)


@pytest.fixture
def acme(administrator: Membership, member: Membership) -> Account:
    return _account(administrator, member)


@pytest.fixture
def globex(other_administrator: Membership) -> Account:
    member = _person("bob@globex.test", other_administrator.organization)
    return _account(other_administrator, member)


@pytest.fixture(params=["acme-vs-globex", "globex-vs-acme"])
def accounts(request: pytest.FixtureRequest, acme: Account, globex: Account) -> tuple[Account, ...]:
    """(own account, other account)."""
    return (acme, globex) if request.param == "acme-vs-globex" else (globex, acme)


def signed_in(membership: Membership) -> Client:
    """Signed in just now, as the sign-in form records it: no re-authentication is due."""
    client = Client()
    client.force_login(membership.user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time()}]
    session["account_authentication_methods_user"] = str(membership.user.pk)
    session.save()
    return client


def send(client: Client, method: str, path: str, body: dict[str, str] | None) -> HttpResponse:
    """JSON to /api/ paths, a form to pages."""
    if path.startswith("/api/"):
        data = "" if body is None else json.dumps(body)
        response = client.generic(method, path, data, content_type="application/json")
        assert_api_response(path, response)
        return response
    return client.post(path, body or {}) if method == "POST" else client.generic(method, path)


def snapshot() -> list[Any]:
    """Everything a cross-account request could change."""
    return [
        list(
            Organization.objects.order_by("pk").values_list(
                "pk",
                "name",
                "default_country",
                "require_two_factor",
                "two_factor_grace_days",
                "two_factor_required_since",
            )
        ),
        list(Membership.objects.order_by("pk").values_list("pk", "organization_id", "role")),
        list(User.objects.order_by("pk").values_list("pk", "email", "is_active", "password")),
        list(
            Invitation.objects.order_by("pk").values_list(
                "pk", "organization_id", "email", "role", "revoked_at", "accepted_at"
            )
        ),
        sorted(Session.objects.values_list("session_key", flat=True)),
        list(SmsFactor.objects.order_by("pk").values_list("pk", "user_id", "phone")),
        list(BackupCode.objects.order_by("pk").values_list("pk", "user_id", "used_at")),
        list(
            SamlConnection.objects.order_by("pk").values_list(
                "pk",
                "organization_id",
                "name",
                "idp_entity_id",
                "idp_sso_url",
                "idp_certificate",
                "trust",
                "mfa_contexts",
                "allow_idp_initiated",
            )
        ),
        list(
            EmailDomain.objects.order_by("pk").values_list(
                "pk", "organization_id", "domain", "connection_id", "just_in_time"
            )
        ),
        list(AccountSso.objects.order_by("pk").values()),
        list(SocialAccount.objects.order_by("pk").values_list("pk", "user_id", "provider")),
    ]


def assert_refused(client: Client, path: str, response: HttpResponse) -> None:
    if path.startswith("/api/"):
        assert response.status_code == 404
        assert [e["code"] for e in response.json()["errors"]] == ["not_found"]
    elif path.startswith(NOT_FOUND_PAGES):
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert response["Location"] == "/account/members/"
        page = client.get(response["Location"]).content.decode()
        assert 'class="alert error"' in page
        assert "There is no such" in page


def assert_reached(client: Client, path: str, response: HttpResponse) -> None:
    """Answered by the flow (success or a rule such as last_administrator), not "no such"."""
    if path.startswith(("/api/", NOT_FOUND_PAGES)):
        assert response.status_code != 404
    else:
        assert response.status_code == 302
        assert "There is no such" not in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(("method", "template", "body"), ID_CASES)
def test_administrator_cannot_reach_another_accounts_objects(
    accounts: tuple[Account, Account],
    method: str,
    template: str,
    body: dict[str, str] | None,
) -> None:
    own, other = accounts
    client = signed_in(own.administrator)
    before = snapshot()

    attack = template.format(**other.ids())
    assert_refused(client, attack, send(client, method, attack, body))
    assert snapshot() == before

    # The control: the same request reaches the own account's object, so the case is well-formed.
    control = template.format(**own.ids())
    assert_reached(client, control, send(client, method, control, body))


@pytest.mark.parametrize("url", LISTING_CASES)
@pytest.mark.parametrize("role", ["administrator", "member"])
def test_nothing_of_another_account_is_shown(
    accounts: tuple[Account, Account], url: str, role: str
) -> None:
    own, other = accounts
    client = signed_in(getattr(own, role))

    response = client.get(url)
    if url.startswith("/api/"):
        assert_api_response(url, response)

    assert response.status_code in (200, 403)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    content = body.decode()
    for data in other.visible_data():
        assert data not in content, f"{url} shows {data!r} of the other account"
    if response.status_code == 200:
        assert any(data in content for data in own.visible_data()), f"{url} shows nothing"


def test_invitation_lists_show_only_the_own_accounts_invitations(
    accounts: tuple[Account, Account],
) -> None:
    own, _ = accounts

    listed = signed_in(own.administrator).get("/api/v1/invitations").json()["data"]

    assert [i["id"] for i in listed] == [own.invitation.pk]
    assert flows.list_invitations(own.administrator) == [own.invitation]


@pytest.mark.parametrize("url", ["/account/audit/", "/api/v1/audit-events"])
def test_audit_filters_cannot_reach_another_accounts_events(
    accounts: tuple[Account, Account], url: str
) -> None:
    own, other = accounts
    client = signed_in(own.administrator)

    for person in (other.administrator, other.member):
        response = client.get(url, {"member": person.user.email})
        if url.startswith("/api/"):
            assert_api_response(url, response)
            assert response.json()["data"]["items"] == []
        else:
            assert list(response.context["page"]) == []
    listed = client.get("/api/v1/audit-events").json()["data"]["items"]
    assert {i["subject_email"] for i in listed} >= {own.member.user.email}
    assert AuditEvent.objects.exclude(organization=own.administrator.organization).exists()


def test_member_lists_show_only_the_own_accounts_members(
    accounts: tuple[Account, Account],
) -> None:
    own, _ = accounts
    expected = sorted([own.administrator.pk, own.member.pk, own.deactivated.pk])

    listed = signed_in(own.administrator).get("/api/v1/members").json()["data"]

    assert sorted(m["id"] for m in listed) == expected
    assert sorted(m.pk for m in member_list.list_members(own.member)) == expected


# --- Members' 2FA: status and an administrator's reset ------------------------------------------

PHONES = {"acme.test": "+41791234567", "globex.test": "+41791234599"}


def _with_sms(account: Account) -> str:
    """The account's member gets SMS 2FA (a number of their own); its masked form."""
    phone = PHONES[account.member.user.email.partition("@")[2]]
    give_sms_factor(account.member, phone)
    return mask(phone)


@pytest.mark.parametrize("url", ["/account/members/", "/api/v1/members"])
def test_members_2fa_status_of_another_account_is_never_shown(
    accounts: tuple[Account, Account], url: str
) -> None:
    own, other = accounts
    own_masked, other_masked = _with_sms(own), _with_sms(other)

    response = signed_in(own.administrator).get(url)
    content = response.content.decode()
    if url.startswith("/api/"):
        content = json.dumps(response.json(), ensure_ascii=False)  # "•" unescaped

    assert own_masked in content  # the control: statuses are shown
    assert other_masked not in content


@pytest.mark.parametrize(
    "path",
    ["/api/v1/members/{member}/reset-two-factor", "/account/members/{member}/reset-two-factor"],
)
def test_reset_of_another_accounts_member_is_refused_and_changes_nothing(
    accounts: tuple[Account, Account], path: str
) -> None:
    own, other = accounts
    _with_sms(own)
    _with_sms(other)
    client = signed_in(own.administrator)
    before = snapshot()

    attack = path.format(**other.ids())
    assert_refused(client, attack, send(client, "POST", attack, None))
    assert snapshot() == before

    send(client, "POST", path.format(**own.ids()), None)  # the control: the own member's goes
    assert not SmsFactor.objects.filter(user=own.member.user).exists()
    assert SmsFactor.objects.filter(user=other.member.user).exists()


# --- Mandatory 2FA: the policy and signing out members without 2FA -------------------------------

POLICY_WRITES = [
    (
        "PATCH",
        "/api/v1/organization/security",
        {"require_two_factor": True, "two_factor_grace_days": 9},
    ),
    ("POST", "/account/security/", {"require_two_factor": "on", "two_factor_grace_days": "9"}),
]
SIGN_OUTS = [
    "/api/v1/organization/security/sign-out-members-without-2fa",
    "/account/security/sign-out-members-without-2fa",
]


def _policy(organization: Organization) -> tuple[bool, int]:
    saved = Organization.objects.get(pk=organization.pk)
    return saved.require_two_factor, saved.two_factor_grace_days


@pytest.mark.parametrize(("method", "path", "body"), POLICY_WRITES)
def test_policy_change_applies_to_the_own_account_only(
    accounts: tuple[Account, Account], method: str, path: str, body: dict[str, Any]
) -> None:
    own, other = accounts
    give_sms_factor(own.administrator)
    client = signed_in(own.administrator)
    assert send(client, method, path, body).status_code in (200, 302)

    assert _policy(own.administrator.organization) == (True, 9)
    assert _policy(other.administrator.organization) == (False, 0)


def test_policy_shows_the_own_accounts_rule_and_members(accounts: tuple[Account, Account]) -> None:
    own, other = accounts
    require_two_factor(other.administrator.organization, grace_days=5)
    give_sms_factor(other.member)

    data = signed_in(own.administrator).get("/api/v1/organization/security").json()["data"]

    assert (data["require_two_factor"], data["two_factor_grace_days"]) == (False, 0)
    assert data["members_without_two_factor"] == 2  # the own administrator and member


def _password_session(person: Membership) -> Client:
    """A browser signed in through the sign-in page, so its session is tracked."""
    person.user.set_password(PASSWORD)
    person.user.save()
    EmailAddress.objects.get_or_create(
        user=person.user, email=person.user.email, defaults={"primary": True, "verified": True}
    )
    browser = Client()
    browser.post("/accounts/login/", {"login": person.user.email, "password": PASSWORD})
    assert browser.get("/api/v1/me").status_code == 200
    return browser


@pytest.mark.parametrize("path", SIGN_OUTS)
def test_signing_out_members_without_2fa_leaves_other_accounts_signed_in(
    accounts: tuple[Account, Account], path: str
) -> None:
    own, other = accounts
    own_member, other_member = _password_session(own.member), _password_session(other.member)
    for account in accounts:
        require_two_factor(account.administrator.organization)

    client = signed_in(own.administrator)
    assert send(client, "POST", path, None).status_code in (200, 302)

    assert own_member.get("/api/v1/me").status_code == 401  # the control: the case reaches
    assert other_member.get("/api/v1/me").status_code == 200


def test_another_members_linked_identity_provider_is_neither_shown_nor_unlinked(
    administrator: Membership, other_administrator: Membership, settings: Any
) -> None:
    from allauth.socialaccount.models import SocialAccount

    from twofold.config.secret import Secret
    from twofold.config.sso import OidcClient, SsoSettings, allauth_providers

    google = OidcClient("google", "Google", "id", Secret("secret"), "http://127.0.0.1:9")
    settings.SOCIALACCOUNT_PROVIDERS = allauth_providers(SsoSettings(google, None))
    theirs = SocialAccount.objects.create(user=other_administrator.user, provider="google", uid="x")
    client = Client()
    client.post("/accounts/login/", {"login": administrator.user.email, "password": PASSWORD})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})  # unlinking needs it

    page = client.get("/settings/security/").content.decode()
    answer = client.post("/accounts/3rdparty/", {"account": theirs.pk})

    assert answer.status_code == 200  # the form again, with its error: not a redirect

    assert "Unlink Google" not in page
    assert SocialAccount.objects.filter(pk=theirs.pk).exists()
