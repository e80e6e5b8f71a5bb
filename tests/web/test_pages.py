"""The pages of web/urls.py: who sees what, the members page's actions and their messages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client

from tests.conftest import PASSWORD
from twofold import clock
from twofold.organizations import flows
from twofold.organizations.flows import IssuedInvitation
from twofold.organizations.models import Invitation, Membership, Organization, Role
from twofold.users.models import User

NEW_PASSWORD = "a long and unusual passphrase 42"
INVITEE = "carol@example.test"

PAGES_FOR_EVERYONE = ["/", "/settings/security/"]
PAGES_FOR_ADMINISTRATORS = ["/account/", "/account/members/"]


@pytest.fixture
def invitation(administrator: Membership) -> IssuedInvitation:
    return flows.invite_member(administrator, INVITEE)


def messages_of(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def user_menu(response: HttpResponse) -> str:
    found = re.search(
        r'<nav aria-label="Your settings">(.*?)</nav>', response.content.decode(), re.S
    )
    assert found, "no user menu on the page"
    return found.group(1)


def database_state() -> list[Any]:
    return [
        list(Membership.objects.order_by("pk").values_list("pk", "role")),
        list(User.objects.order_by("pk").values_list("pk", "is_active")),
        list(Organization.objects.order_by("pk").values_list("pk", "name")),
        list(Invitation.objects.order_by("pk").values_list("pk", "revoked_at")),
    ]


# --- Who sees which page ------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES_FOR_EVERYONE + PAGES_FOR_ADMINISTRATORS)
def test_administrator_sees_every_page(administrator_client: Client, url: str) -> None:
    response = administrator_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", PAGES_FOR_EVERYONE)
def test_member_sees_their_own_pages(member_client: Client, url: str) -> None:
    assert member_client.get(url).status_code == 200


def test_home_page_greets_the_member_in_their_account(
    member: Membership, member_client: Client
) -> None:
    page = member_client.get("/").content.decode()

    assert "bob@acme.test" in page
    assert member.organization.name in page


def test_security_settings_page_is_password_and_two_factor_authentication(
    member_client: Client,
) -> None:
    page = member_client.get("/settings/security/").content.decode()

    assert "<h1>Password and Two-Factor Authentication</h1>" in page
    assert 'href="/accounts/password/change/"' in page


def test_members_page_lists_members_and_pending_invitations(
    member: Membership, invitation: IssuedInvitation, administrator_client: Client
) -> None:
    page = administrator_client.get("/account/members/").content.decode()

    assert "bob@acme.test" in page
    assert "ada@acme.test" in page
    assert INVITEE in page
    assert f'action="/account/invitations/{invitation.invitation.pk}/revoke"' in page
    assert f'href="/account/members/{member.pk}/deactivate"' in page  # a confirmation first


MEMBER_REFUSALS = [
    ("GET", "/account/", None),
    ("POST", "/account/", {"name": "Taken over"}),
    ("GET", "/account/members/", None),
    ("POST", "/account/members/", {"email": "eve@example.test", "role": "administrator"}),
    ("POST", "/account/members/{member}/role", {"role": "administrator"}),
    ("POST", "/account/members/{administrator}/role", {"role": "member"}),
    ("POST", "/account/members/{administrator}/deactivate", None),
    ("POST", "/account/members/{member}/reactivate", None),
    ("POST", "/account/invitations/{invitation}/revoke", None),
    ("GET", "/account/members/{administrator}/reset-two-factor", None),
    ("POST", "/account/members/{administrator}/reset-two-factor", None),
]


@pytest.mark.parametrize(("method", "template", "body"), MEMBER_REFUSALS)
def test_member_gets_403_on_administrator_pages(
    administrator: Membership,
    member: Membership,
    invitation: IssuedInvitation,
    member_client: Client,
    method: str,
    template: str,
    body: dict[str, str] | None,
) -> None:
    url = template.format(
        administrator=administrator.pk, member=member.pk, invitation=invitation.invitation.pk
    )
    before = database_state()

    response = member_client.post(url, body or {}) if method == "POST" else member_client.get(url)

    assert response.status_code == 403
    assert "Only administrators can open this page" in response.content.decode()
    assert database_state() == before


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/"),
        ("GET", "/settings/security/"),
        ("GET", "/account/"),
        ("GET", "/account/members/"),
        ("POST", "/account/members/"),
        ("POST", "/account/members/1/role"),
        ("POST", "/account/members/1/deactivate"),
        ("POST", "/account/members/1/reactivate"),
        ("POST", "/account/invitations/1/revoke"),
        ("GET", "/account/members/1/reset-two-factor"),
        ("POST", "/account/members/1/reset-two-factor"),
    ],
)
def test_anonymous_visitor_is_sent_to_sign_in(db: Any, method: str, url: str) -> None:
    response = Client().generic(method, url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize(
    "url",
    [
        "/account/members/1/role",
        "/account/members/1/reactivate",
        "/account/invitations/1/revoke",
    ],
)
def test_member_actions_only_accept_post(administrator_client: Client, url: str) -> None:
    assert administrator_client.get(url).status_code == 405


def test_unknown_page_is_a_404_page(db: Any) -> None:
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
def test_probes_answer_without_signing_in(db: Any, url: str) -> None:
    response = Client().get(url)

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# --- User menu ----------------------------------------------------------------------------------


@pytest.fixture(params=["administrator", "member"])
def actor(request: pytest.FixtureRequest) -> tuple[str, Client]:
    """Each kind of member, signed in (one per test: both *_client fixtures share one client)."""
    return request.param, request.getfixturevalue(f"{request.param}_client")


@pytest.mark.parametrize("url", PAGES_FOR_EVERYONE)
def test_user_menu_shows_administration_only_to_administrators(
    actor: tuple[str, Client], url: str
) -> None:
    role, browser = actor
    is_administrator = role == "administrator"

    menu = user_menu(browser.get(url))

    assert 'href="/settings/security/">Password and Two-Factor Authentication</a>' in menu
    assert ("Account &amp; Security" in menu) == is_administrator
    assert ("Members" in menu) == is_administrator


@pytest.mark.parametrize("url", PAGES_FOR_ADMINISTRATORS)
def test_user_menu_on_administrator_pages(administrator_client: Client, url: str) -> None:
    menu = user_menu(administrator_client.get(url))

    assert 'href="/settings/security/">Password and Two-Factor Authentication</a>' in menu
    assert 'href="/account/">Account &amp; Security</a>' in menu
    assert 'href="/account/members/">Members</a>' in menu


def test_home_tiles_show_administration_only_to_administrators(
    actor: tuple[str, Client],
) -> None:
    role, browser = actor

    page = browser.get("/").content.decode()

    assert ('<a class="tile" href="/account/members/">' in page) == (role == "administrator")


# --- Members page actions -----------------------------------------------------------------------


def test_inviting_from_the_members_page_sends_the_invitation(
    administrator_client: Client, outbox: list[Any]
) -> None:
    response = administrator_client.post(
        "/account/members/", {"email": INVITEE, "role": "administrator"}, follow=True
    )

    assert response.redirect_chain == [("/account/members/", 302)]
    assert messages_of(response) == [f"An invitation was sent to {INVITEE}."]
    assert INVITEE in response.content.decode()
    assert outbox[0].to == [INVITEE]
    assert Invitation.objects.get().role == Role.ADMINISTRATOR


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("not-an-email", "Enter a valid email address."),
        ("bob@acme.test", "already has a Twofold account"),
    ],
)
def test_inviting_from_the_members_page_shows_what_is_wrong(
    member: Membership, administrator_client: Client, outbox: list[Any], email: str, error: str
) -> None:
    response = administrator_client.post("/account/members/", {"email": email, "role": "member"})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert 'class="field-error"' in response.content.decode()
    assert not Invitation.objects.exists()
    assert not outbox


def test_changing_a_role_shows_a_message(member: Membership, administrator_client: Client) -> None:
    response = administrator_client.post(
        f"/account/members/{member.pk}/role", {"role": "administrator"}, follow=True
    )

    assert response.redirect_chain == [("/account/members/", 302)]
    assert messages_of(response) == ["bob@acme.test is now administrator."]
    assert Membership.objects.get(pk=member.pk).role == Role.ADMINISTRATOR


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("member", "An account needs at least one administrator."),
        ("owner", "Choose a role: administrator or member."),
    ],
)
def test_refused_role_change_shows_an_error(
    administrator: Membership, administrator_client: Client, role: str, error: str
) -> None:
    response = administrator_client.post(
        f"/account/members/{administrator.pk}/role", {"role": role}, follow=True
    )

    assert error in messages_of(response)[0]
    assert 'class="alert error"' in response.content.decode()
    assert Membership.objects.get(pk=administrator.pk).role == Role.ADMINISTRATOR


def test_deactivating_and_reactivating_show_messages(
    member: Membership, administrator_client: Client
) -> None:
    response = administrator_client.post(f"/account/members/{member.pk}/deactivate", follow=True)

    assert messages_of(response) == ["bob@acme.test was deactivated and signed out everywhere."]
    assert "Deactivated" in response.content.decode()
    assert not User.objects.get(pk=member.user.pk).is_active

    response = administrator_client.post(f"/account/members/{member.pk}/reactivate", follow=True)

    assert messages_of(response) == ["bob@acme.test can sign in again."]
    assert User.objects.get(pk=member.user.pk).is_active


def test_deactivating_asks_to_confirm_first(
    member: Membership, administrator_client: Client
) -> None:
    """Issue 19: the members page's button opens a confirmation; only its POST deactivates."""
    before = database_state()

    page = administrator_client.get(f"/account/members/{member.pk}/deactivate")

    assert page.status_code == 200
    shown = page.content.decode()
    assert "Deactivate bob@acme.test?" in shown
    assert 'method="post"' in shown
    assert database_state() == before
    assert User.objects.get(pk=member.user.pk).is_active


def test_a_deactivated_member_signing_in_is_told_what_happened_and_whom_to_ask(
    member: Membership, administrator_client: Client
) -> None:
    administrator_client.post(f"/account/members/{member.pk}/deactivate")
    browser = Client()

    page = browser.post(
        "/accounts/login/", {"login": member.user.email, "password": PASSWORD}, follow=True
    ).content.decode()

    assert "Your account is deactivated" in page
    assert "ask an administrator of your account" in page
    assert "This account is inactive." not in page


def test_deactivating_yourself_shows_an_error(
    administrator: Membership, administrator_client: Client
) -> None:
    response = administrator_client.post(
        f"/account/members/{administrator.pk}/deactivate", follow=True
    )

    assert messages_of(response) == ["You cannot deactivate yourself."]
    assert User.objects.get(pk=administrator.user.pk).is_active


def test_withdrawing_an_invitation_shows_a_message(
    invitation: IssuedInvitation, administrator_client: Client
) -> None:
    response = administrator_client.post(
        f"/account/invitations/{invitation.invitation.pk}/revoke", follow=True
    )

    assert messages_of(response) == ["The invitation was withdrawn."]
    assert INVITEE not in response.content.decode()
    assert Invitation.objects.get().revoked_at is not None


def test_renaming_the_account_shows_a_message(administrator_client: Client) -> None:
    response = administrator_client.post("/account/", {"name": "Acme AG"}, follow=True)

    assert response.redirect_chain == [("/account/", 302)]
    assert messages_of(response) == ["The account name was saved."]
    assert Organization.objects.get().name == "Acme AG"


def test_renaming_the_account_needs_a_name(administrator_client: Client) -> None:
    response = administrator_client.post("/account/", {"name": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


# --- Invitation page ----------------------------------------------------------------------------


def test_invitation_page_with_a_valid_token_renders(
    administrator: Membership, invitation: IssuedInvitation
) -> None:
    response = Client().get(f"/invitations/{invitation.token}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Join {administrator.organization.name}" in page
    assert INVITEE in page
    assert 'autocomplete="new-password"' in page


def test_invitation_page_with_an_unknown_token_is_a_404(db: Any) -> None:
    response = Client().get("/invitations/not-a-token/")

    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()


def _expire(invitation: IssuedInvitation) -> None:
    Invitation.objects.filter(pk=invitation.invitation.pk).update(
        expires_at=clock.now() - timedelta(seconds=1)
    )


def _use(invitation: IssuedInvitation) -> None:
    flows.accept_invitation(invitation.token, NEW_PASSWORD)


def _withdraw(invitation: IssuedInvitation) -> None:
    Invitation.objects.filter(pk=invitation.invitation.pk).update(revoked_at=clock.now())


@pytest.mark.parametrize("spoil", [_expire, _use, _withdraw], ids=["expired", "used", "withdrawn"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_invitation_page_with_a_spent_token_is_a_410(
    invitation: IssuedInvitation, spoil: Any, method: str
) -> None:
    spoil(invitation)
    users_before = User.objects.count()
    url = f"/invitations/{invitation.token}/"

    browser = Client()
    response = (
        browser.post(url, {"password": NEW_PASSWORD}) if method == "POST" else browser.get(url)
    )

    assert response.status_code == 410
    assert "This invitation cannot be used" in response.content.decode()
    assert User.objects.count() == users_before


def test_accepting_on_the_invitation_page_creates_the_member_and_sends_to_sign_in(
    administrator: Membership, invitation: IssuedInvitation
) -> None:
    browser = Client()

    response = browser.post(
        f"/invitations/{invitation.token}/",
        {"name": "Carol", "password": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "Welcome! Your password is set: sign in to continue." in messages_of(response)
    user = User.objects.get(email=INVITEE)
    assert user.membership.organization == administrator.organization
    browser.post("/accounts/login/", {"login": INVITEE, "password": NEW_PASSWORD})
    assert browser.get("/").status_code == 200


def test_after_accepting_the_sign_in_page_has_the_invited_address_and_no_sign_up_first(
    invitation: IssuedInvitation,
) -> None:
    """Issue 19: the new member signs in, not up."""
    browser = Client()
    browser.post(f"/invitations/{invitation.token}/", {"name": "Carol", "password": NEW_PASSWORD})

    page = browser.get("/accounts/login/").content.decode()

    assert f'value="{INVITEE}"' in page
    assert "sign up</a> first" not in page
    browser.post("/accounts/login/", {"login": INVITEE, "password": "not it"})
    assert f'value="{INVITEE}"' not in Client().get("/accounts/login/").content.decode()
    assert "sign up</a> first" in browser.get("/accounts/login/").content.decode()  # once only


def test_sign_in_page_says_what_remember_me_does(db: Any) -> None:
    page = Client().get("/accounts/login/").content.decode()
    assert "Keep me signed in on this browser" in page
    assert "Remember Me" not in page


@pytest.mark.parametrize(
    ("password", "error"),
    [("short", "too short"), ("qwertyuiop", "too common"), ("Twofold2024", "too easy to guess")],
)
def test_invitation_page_refuses_a_weak_password(
    invitation: IssuedInvitation, password: str, error: str
) -> None:
    response = Client().post(f"/invitations/{invitation.token}/", {"password": password})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not User.objects.filter(email=INVITEE).exists()


def test_accepted_member_signs_in_with_the_chosen_password_only(
    invitation: IssuedInvitation,
) -> None:
    flows.accept_invitation(invitation.token, NEW_PASSWORD)

    wrong = Client()
    wrong.post("/accounts/login/", {"login": INVITEE, "password": PASSWORD})

    assert wrong.get("/").status_code == 302
