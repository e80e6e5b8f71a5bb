"""Organization flows: sign-up, invitations, roles and deactivation (organizations/flows.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from tests.conftest import PASSWORD
from twofold import clock
from twofold.errors import Conflict, FlowError, Gone, NotAllowed, NotFound
from twofold.factors import member_list
from twofold.organizations import flows
from twofold.organizations.flows import INVITATION_LIFETIME
from twofold.organizations.models import Invitation, Membership, Organization, Role
from twofold.organizations.notifications import invitation_url
from twofold.users.models import User

NEW_PASSWORD = "a long and unusual passphrase 42"
INVITEE = "carol@example.test"


def _counts() -> tuple[int, int, int]:
    return User.objects.count(), Organization.objects.count(), Membership.objects.count()


def _password_login(email: str, password: str = PASSWORD) -> Client:
    """A browser signed in through allauth's login page, so its session is tracked."""
    browser = Client()
    response = browser.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content
    assert browser.get("/api/v1/me").status_code == 200
    return browser


def _app_login(email: str, password: str = PASSWORD) -> Client:
    response = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": email, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return Client(headers={"X-Session-Token": response.json()["meta"]["session_token"]})


# --- Sign-up ------------------------------------------------------------------------------------


def test_signup_makes_the_user_administrator_of_a_new_organization(db: Any) -> None:
    user = User.objects.create_user("founder@newco.test", NEW_PASSWORD)

    membership = flows.create_organization(user, "  Newco  ")

    assert membership.role == Role.ADMINISTRATOR
    assert membership.organization.name == "Newco"
    assert membership.user == user


def test_signup_page_creates_an_organization_with_the_user_as_administrator(db: Any) -> None:
    response = Client().post(
        "/accounts/signup/",
        {"email": "founder@newco.test", "password1": NEW_PASSWORD, "organization_name": "Newco"},
    )

    assert response.status_code == 302
    membership = Membership.objects.select_related("organization").get(
        user__email="founder@newco.test"
    )
    assert membership.role == Role.ADMINISTRATOR
    assert membership.organization.name == "Newco"


@pytest.mark.parametrize("client_kind", ["browser", "app"])
def test_signup_api_creates_an_organization_with_the_user_as_administrator(
    db: Any, client_kind: str
) -> None:
    response = Client().post(
        f"/_allauth/{client_kind}/v1/auth/signup",
        {"email": "founder@newco.test", "password": NEW_PASSWORD, "organization_name": "Newco"},
        content_type="application/json",
    )

    # 401 with the verify_email flow pending: the account exists, its address is not verified.
    assert response.status_code == 401, response.content
    assert {"id": "verify_email", "is_pending": True} in response.json()["data"]["flows"]
    membership = Membership.objects.get(user__email="founder@newco.test")
    assert membership.role == Role.ADMINISTRATOR
    assert membership.organization.name == "Newco"


@pytest.mark.parametrize("organization_name", [None, "", "   "])
@pytest.mark.parametrize("client_kind", ["browser", "app"])
def test_signup_api_without_organization_name_is_refused_and_creates_nothing(
    db: Any, client_kind: str, organization_name: str | None
) -> None:
    body: dict[str, Any] = {"email": "founder@newco.test", "password": NEW_PASSWORD}
    if organization_name is not None:
        body["organization_name"] = organization_name

    response = Client().post(
        f"/_allauth/{client_kind}/v1/auth/signup", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "organization_name" in [e.get("param") for e in response.json()["errors"]]
    assert _counts() == (0, 0, 0)


@pytest.mark.parametrize("organization_name", [None, "   "])
def test_signup_page_without_organization_name_shows_an_error_and_creates_nothing(
    db: Any, organization_name: str | None
) -> None:
    data = {"email": "founder@newco.test", "password1": NEW_PASSWORD}
    if organization_name is not None:
        data["organization_name"] = organization_name

    response = Client().post("/accounts/signup/", data)

    assert response.status_code == 200
    assert "organization_name" in response.context["form"].errors
    assert _counts() == (0, 0, 0)


def test_signup_is_atomic_when_the_organization_cannot_be_created(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(user: User, name: str, **kwargs: Any) -> Membership:
        raise RuntimeError("organization store unavailable")

    monkeypatch.setattr(flows, "create_organization", fail)

    with pytest.raises(RuntimeError):
        Client().post(
            "/accounts/signup/",
            {"email": "founder@newco.test", "password1": NEW_PASSWORD, "organization_name": "N"},
        )

    assert _counts() == (0, 0, 0)
    assert not EmailAddress.objects.exists()


# --- Invitations --------------------------------------------------------------------------------


def test_invitation_email_carries_the_link(administrator: Membership, outbox: list[Any]) -> None:
    issued = flows.invite_member(administrator, INVITEE)

    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == [INVITEE]
    assert administrator.organization.name in message.subject
    assert invitation_url(issued.token) in message.body
    assert issued.invitation.role == Role.MEMBER


def test_invitation_address_is_normalised(administrator: Membership) -> None:
    issued = flows.invite_member(administrator, "  Carol@Example.TEST ")

    assert issued.invitation.email == INVITEE


def test_invitation_token_is_stored_only_as_its_sha256_hash(administrator: Membership) -> None:
    issued = flows.invite_member(administrator, INVITEE)

    assert issued.invitation.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                assert issued.token not in repr(row), f"token stored in {table}"


def test_invitation_link_is_valid_for_seven_days(administrator: Membership) -> None:
    now = clock.now()
    issued = flows.invite_member(administrator, INVITEE, now=now)
    last_moment = now + INVITATION_LIFETIME - timedelta(seconds=1)

    assert timedelta(days=7) == INVITATION_LIFETIME
    assert flows.find_invitation(issued.token, now=last_moment) == issued.invitation
    with pytest.raises(Gone) as raised:
        flows.find_invitation(issued.token, now=now + INVITATION_LIFETIME)
    assert raised.value.code == "invitation_expired"


def test_expired_invitation_cannot_be_accepted(administrator: Membership) -> None:
    now = clock.now()
    issued = flows.invite_member(administrator, INVITEE, now=now)
    users_before = User.objects.count()

    with pytest.raises(Gone):
        flows.accept_invitation(issued.token, NEW_PASSWORD, now=now + timedelta(days=7, seconds=1))

    assert User.objects.count() == users_before


def test_unknown_invitation_token_is_not_found(db: Any) -> None:
    with pytest.raises(NotFound) as raised:
        flows.find_invitation("not-a-token")
    assert raised.value.code == "invitation_invalid"


def test_invitation_link_is_single_use(administrator: Membership) -> None:
    issued = flows.invite_member(administrator, INVITEE)
    flows.accept_invitation(issued.token, NEW_PASSWORD)

    with pytest.raises(Gone):
        flows.accept_invitation(issued.token, "another long passphrase 43")

    assert Membership.objects.filter(user__email=INVITEE).count() == 1


def test_invitation_link_is_single_use_when_two_accepts_race(
    administrator: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = flows.invite_member(administrator, INVITEE)
    seen_by_the_slower_request = flows.find_invitation(issued.token)
    flows.accept_invitation(issued.token, NEW_PASSWORD)
    monkeypatch.setattr(
        flows, "find_invitation", lambda token, now=None: seen_by_the_slower_request
    )

    with pytest.raises(Gone):
        flows.accept_invitation(issued.token, "another long passphrase 43")

    assert User.objects.get(email=INVITEE).check_password(NEW_PASSWORD)


def test_new_invitation_to_the_same_email_revokes_the_old_one(administrator: Membership) -> None:
    first = flows.invite_member(administrator, INVITEE)
    second = flows.invite_member(administrator, INVITEE.upper(), Role.ADMINISTRATOR)

    with pytest.raises(Gone):
        flows.find_invitation(first.token)
    assert flows.find_invitation(second.token) == second.invitation
    assert flows.list_invitations(administrator) == [second.invitation]


def test_revoked_invitation_cannot_be_accepted(administrator: Membership) -> None:
    issued = flows.invite_member(administrator, INVITEE)
    flows.revoke_invitation(administrator, issued.invitation.pk)

    with pytest.raises(Gone):
        flows.accept_invitation(issued.token, NEW_PASSWORD)
    with pytest.raises(NotFound):
        flows.revoke_invitation(administrator, issued.invitation.pk)
    assert not User.objects.filter(email=INVITEE).exists()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMINISTRATOR])
def test_accepting_creates_a_verified_user_with_the_invited_role(
    administrator: Membership, role: str
) -> None:
    issued = flows.invite_member(administrator, INVITEE, role)

    user = flows.accept_invitation(issued.token, NEW_PASSWORD, " Carol ")

    assert user.email == INVITEE
    assert user.name == "Carol"
    assert user.check_password(NEW_PASSWORD)
    assert user.membership.organization == administrator.organization
    assert user.membership.role == role
    assert EmailAddress.objects.filter(
        user=user, email=INVITEE, verified=True, primary=True
    ).exists()
    assert Invitation.objects.get(pk=issued.invitation.pk).accepted_at is not None


def test_accepted_member_can_sign_in(administrator: Membership) -> None:
    issued = flows.invite_member(administrator, INVITEE)
    flows.accept_invitation(issued.token, NEW_PASSWORD)

    browser = _password_login(INVITEE, NEW_PASSWORD)

    assert browser.get("/api/v1/me").json()["data"]["role"] == Role.MEMBER


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        pytest.param("Tw0!x", "too short", id="too-short"),
        pytest.param("qwertyuiop", "too common", id="too-common"),
        pytest.param("Twofold2024", "mostly a word", id="service-word"),
        pytest.param("carol-1234", "mostly a word", id="email-word"),
    ],
)
def test_accepting_validates_the_password(
    administrator: Membership, password: str, reason: str
) -> None:
    issued = flows.invite_member(administrator, INVITEE)

    with pytest.raises(FlowError) as raised:
        flows.accept_invitation(issued.token, password)

    assert reason in raised.value.message
    assert raised.value.code == "password_invalid"
    assert raised.value.param == "password"
    assert not User.objects.filter(email=INVITEE).exists()
    assert flows.find_invitation(issued.token) == issued.invitation  # still usable


@pytest.mark.parametrize("email", ["bob@acme.test", "BOB@acme.test", "olga@globex.test"])
def test_inviting_an_existing_users_email_is_a_conflict(
    administrator: Membership, member: Membership, other_administrator: Membership, email: str
) -> None:
    with pytest.raises(Conflict) as raised:
        flows.invite_member(administrator, email)

    assert raised.value.code == "email_taken"
    assert raised.value.param == "email"
    assert not Invitation.objects.exists()


def test_accepting_after_the_email_got_an_account_elsewhere_is_a_conflict(
    administrator: Membership, make_member: Callable[..., Membership]
) -> None:
    issued = flows.invite_member(administrator, INVITEE)
    make_member(INVITEE)  # signed up on their own in the meantime

    with pytest.raises(Conflict) as raised:
        flows.accept_invitation(issued.token, NEW_PASSWORD)

    assert raised.value.code == "email_taken"
    assert Invitation.objects.get(pk=issued.invitation.pk).accepted_at is None


def test_invitation_role_must_be_known(administrator: Membership) -> None:
    with pytest.raises(FlowError) as raised:
        flows.invite_member(administrator, INVITEE, "owner")

    assert raised.value.param == "role"
    assert not Invitation.objects.exists()


# --- Roles --------------------------------------------------------------------------------------


def test_administrator_can_change_a_members_role(
    administrator: Membership, member: Membership
) -> None:
    flows.change_role(administrator, member.pk, Role.ADMINISTRATOR)
    assert Membership.objects.get(pk=member.pk).role == Role.ADMINISTRATOR

    flows.change_role(administrator, member.pk, Role.MEMBER)
    assert Membership.objects.get(pk=member.pk).role == Role.MEMBER


def test_role_must_be_known(administrator: Membership, member: Membership) -> None:
    with pytest.raises(FlowError) as raised:
        flows.change_role(administrator, member.pk, "owner")

    assert raised.value.param == "role"
    assert Membership.objects.get(pk=member.pk).role == Role.MEMBER


def test_last_administrator_cannot_be_demoted(administrator: Membership) -> None:
    with pytest.raises(Conflict) as raised:
        flows.change_role(administrator, administrator.pk, Role.MEMBER)

    assert raised.value.code == "last_administrator"
    assert Membership.objects.get(pk=administrator.pk).role == Role.ADMINISTRATOR


def test_a_deactivated_administrator_does_not_count_as_another_administrator(
    administrator: Membership, make_member: Callable[..., Membership]
) -> None:
    second = make_member(
        "ann@acme.test", organization=administrator.organization, role=Role.ADMINISTRATOR
    )
    flows.deactivate_member(administrator, second.pk)

    with pytest.raises(Conflict) as raised:
        flows.change_role(administrator, administrator.pk, Role.MEMBER)

    assert raised.value.code == "last_administrator"


def test_administrator_can_step_down_when_another_administrator_remains(
    administrator: Membership, member: Membership
) -> None:
    flows.change_role(administrator, member.pk, Role.ADMINISTRATOR)

    flows.change_role(administrator, administrator.pk, Role.MEMBER)

    assert Membership.objects.get(pk=administrator.pk).role == Role.MEMBER


def test_last_administrator_cannot_be_deactivated(
    administrator: Membership, member: Membership
) -> None:
    # Two administrators; one is demoted by the other while still acting with its old role
    # (two requests at once): under the organization lock the demoted actor is re-checked and
    # refused, so the remaining administrator stays.
    flows.change_role(administrator, member.pk, Role.ADMINISTRATOR)
    stale_actor = Membership.objects.select_related("user", "organization").get(pk=member.pk)
    flows.change_role(administrator, member.pk, Role.MEMBER)

    with pytest.raises(NotAllowed):
        flows.deactivate_member(stale_actor, administrator.pk)
    assert User.objects.get(pk=administrator.user.pk).is_active

    only_admin = Membership.objects.select_related("user", "organization").get(pk=member.pk)
    with pytest.raises(Conflict) as raised:
        flows.change_role(administrator, administrator.pk, Role.MEMBER)
    assert raised.value.code == "last_administrator"
    assert not only_admin.is_administrator


def test_administrator_cannot_deactivate_themselves(
    administrator: Membership, member: Membership
) -> None:
    flows.change_role(administrator, member.pk, Role.ADMINISTRATOR)

    with pytest.raises(Conflict) as raised:
        flows.deactivate_member(administrator, administrator.pk)

    assert raised.value.code == "cannot_deactivate_self"
    assert User.objects.get(pk=administrator.user.pk).is_active


# --- Deactivation -------------------------------------------------------------------------------


def test_deactivation_ends_all_sessions_of_the_member_at_once(
    administrator: Membership, member: Membership
) -> None:
    browser = _password_login(member.user.email)
    app = _app_login(member.user.email)
    assert app.get("/api/v1/me").status_code == 200
    assert UserSession.objects.filter(user=member.user).count() == 2

    flows.deactivate_member(administrator, member.pk)

    assert not User.objects.get(pk=member.user.pk).is_active
    assert not UserSession.objects.filter(user=member.user).exists()
    owners = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(member.user.pk) not in owners
    page = browser.get("/settings/security/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")
    assert browser.get("/api/v1/me").status_code == 401
    assert app.get("/api/v1/me").status_code == 401


def test_deactivated_member_cannot_sign_in(administrator: Membership, member: Membership) -> None:
    flows.deactivate_member(administrator, member.pk)

    browser = Client()
    page = browser.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    app = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": member.user.email, "password": PASSWORD},
        content_type="application/json",
    )

    assert page["Location"] == "/accounts/inactive/"
    assert browser.get("/api/v1/me").status_code == 401
    assert app.status_code == 401
    assert app.json()["meta"] == {"is_authenticated": False}


def test_reactivation_lets_the_member_sign_in_again_but_does_not_revive_old_sessions(
    administrator: Membership, member: Membership
) -> None:
    old_browser = _password_login(member.user.email)
    flows.deactivate_member(administrator, member.pk)

    flows.reactivate_member(administrator, member.pk)

    assert User.objects.get(pk=member.user.pk).is_active
    assert old_browser.get("/api/v1/me").status_code == 401
    assert _password_login(member.user.email).get("/").status_code == 200


# --- Who may do what ----------------------------------------------------------------------------

ADMIN_FLOWS: dict[str, Callable[[Membership, Membership], object]] = {
    "invite": lambda actor, target: flows.invite_member(actor, INVITEE),
    "list_invitations": lambda actor, target: flows.list_invitations(actor),
    "revoke_invitation": lambda actor, target: flows.revoke_invitation(actor, 1),
    "change_role": lambda actor, target: flows.change_role(actor, target.pk, Role.ADMINISTRATOR),
    "deactivate": lambda actor, target: flows.deactivate_member(actor, target.pk),
    "reactivate": lambda actor, target: flows.reactivate_member(actor, target.pk),
    "rename": lambda actor, target: flows.rename_organization(actor, "Taken over"),
}


@pytest.mark.parametrize("action", ADMIN_FLOWS.values(), ids=ADMIN_FLOWS.keys())
def test_member_is_not_allowed_administrator_flows(
    administrator: Membership, member: Membership, action: Callable[..., object]
) -> None:
    with pytest.raises(NotAllowed) as raised:
        action(member, administrator)

    assert raised.value.code == "forbidden"
    assert Membership.objects.get(pk=administrator.pk).role == Role.ADMINISTRATOR
    assert User.objects.get(pk=administrator.user.pk).is_active
    assert Organization.objects.get().name == administrator.organization.name
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("action", ADMIN_FLOWS.values(), ids=ADMIN_FLOWS.keys())
def test_deactivated_administrator_is_not_allowed_administrator_flows(
    administrator: Membership, member: Membership, action: Callable[..., object]
) -> None:
    administrator.user.is_active = False
    administrator.user.save(update_fields=["is_active"])

    with pytest.raises(NotAllowed):
        action(administrator, member)


def test_members_can_list_the_members_of_their_own_account_only(
    administrator: Membership, member: Membership, other_administrator: Membership
) -> None:
    listed = member_list.list_members(member)

    assert [m.user.email for m in listed] == ["ada@acme.test", "bob@acme.test"]


def test_rename_requires_a_name(administrator: Membership) -> None:
    with pytest.raises(FlowError) as raised:
        flows.rename_organization(administrator, "   ")

    assert raised.value.param == "name"
    assert flows.rename_organization(administrator, " Acme AG ").name == "Acme AG"
