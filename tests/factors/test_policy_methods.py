"""The account's method policy: which second factors members may use (for example, no SMS).

Administrators choose on "Account & Security" and in ``PATCH /api/v1/organization/security``;
enrollment offers only allowed methods, sign-in no longer accepts the others, and a member whose
only factors are no longer allowed adds an allowed one at their next sign-in. Backup codes stay
valid whatever the factors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor, give_totp_factor
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import FlowError, NotAllowed
from twofold.factors import member_factors, policy
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.methods import METHODS
from twofold.factors.sms.models import SmsFactor
from twofold.factors.totp import codes
from twofold.organizations.models import Organization

POLICY_API = "/api/v1/organization/security"
ACCOUNT = "/account/"
METHODS_PAGE = "/account/security/"
# The page's one form sends the rule with the methods (issue 19): the rule as the account has it.
KEEP_RULE = {"two_factor_grace_days": "0", "method_policy": "1"}
SECOND_STEP = "/accounts/2fa/"
BACKUP_CODE_STEP = "/accounts/2fa/backup-code/"
ENROLL_APP = "/accounts/2fa/enroll/app/"
ENROLL_NUMBER = "/accounts/2fa/enroll/number/"
ENROLL_STAGE = {"id": "twofold_two_factor_enrollment", "is_pending": True}


def allow(organization: Organization, *methods: str) -> None:
    organization.allowed_two_factor_methods = list(methods)
    organization.save(update_fields=["allowed_two_factor_methods"])


def saved_methods(organization: Organization) -> tuple[str, ...]:
    """What the database holds now (the fixtures' instances are not refreshed)."""
    return policy.allowed_methods_of(Organization.objects.get(pk=organization.pk))


def send(client: Client, method: str, path: str, body: Any = None):
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, path, data, content_type="application/json")


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("param")) for e in response.json()["errors"]]


def password_step(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def app_api(client: Client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}
    return client.post(
        f"/_allauth/app/v1{path}",
        json.dumps(body or {}),
        content_type="application/json",
        **headers,
    )


def totp_code(secret: str) -> str:
    return codes.code_at(secret, clock.now())


# --- The administrators' flow -------------------------------------------------------------------


def test_every_method_is_allowed_by_default(administrator):
    assert saved_methods(administrator.organization) == METHODS


def test_changing_the_methods_is_audited_with_before_and_after(administrator):
    policy.change_method_policy(administrator, methods=["totp"])

    assert saved_methods(administrator.organization) == ("totp",)
    event = AuditEvent.objects.get(event=Event.POLICY_CHANGED)
    assert event.detail == {"allowed_two_factor_methods": {"from": list(METHODS), "to": ["totp"]}}
    policy.change_method_policy(administrator, methods=["totp"])  # no change: no second event
    assert AuditEvent.objects.filter(event=Event.POLICY_CHANGED).count() == 1


def test_allowing_every_method_is_stored_as_all(administrator):
    """A method added to the registry later is allowed in an account that allowed them all."""
    allow(administrator.organization, "totp")
    policy.change_method_policy(administrator, methods=list(METHODS))
    saved = Organization.objects.get(pk=administrator.organization_id)
    assert saved.allowed_two_factor_methods == []


@pytest.mark.parametrize("methods", [[], ["fax"]])
def test_no_method_or_an_unknown_one_is_refused(administrator, methods):
    with pytest.raises(FlowError) as refused:
        policy.change_method_policy(administrator, methods=methods)
    assert refused.value.code == "methods_invalid"
    assert saved_methods(administrator.organization) == METHODS


def test_members_cannot_change_the_methods(member):
    with pytest.raises(NotAllowed):
        policy.change_method_policy(member, methods=["totp"])


# --- JSON API and page --------------------------------------------------------------------------


def test_api_reads_and_changes_the_allowed_methods(administrator):
    client = freshly_signed_in(Client(), administrator)
    data = client.get(POLICY_API).json()["data"]
    assert data["allowed_two_factor_methods"] == list(METHODS)

    changed = send(client, "PATCH", POLICY_API, {"allowed_two_factor_methods": ["totp"]})

    assert changed.status_code == 200
    assert changed.json()["data"]["allowed_two_factor_methods"] == ["totp"]
    assert changed.json()["data"]["require_two_factor"] is False  # left out: unchanged
    assert AuditEvent.objects.filter(event=Event.POLICY_CHANGED).count() == 1


@pytest.mark.parametrize(
    ("methods", "code"),
    [([], "required"), (None, "required"), ("sms", "invalid_list"), (["fax"], "invalid_choice")],
)
def test_api_refuses_invalid_methods_with_a_400(administrator, methods, code):
    client = freshly_signed_in(Client(), administrator)
    refused = send(client, "PATCH", POLICY_API, {"allowed_two_factor_methods": methods})
    assert refused.status_code == 400
    assert errors(refused) == [(code, "allowed_two_factor_methods")]
    assert saved_methods(administrator.organization) == METHODS


def test_api_members_cannot_change_the_methods(member):
    client = freshly_signed_in(Client(), member)
    refused = send(client, "PATCH", POLICY_API, {"allowed_two_factor_methods": ["totp"]})
    assert refused.status_code == 403
    assert saved_methods(member.organization) == METHODS


def test_page_shows_and_saves_the_allowed_methods(administrator):
    client = freshly_signed_in(Client(), administrator)
    page = client.get(ACCOUNT).content.decode()
    assert "Two-factor methods members may use" in page
    assert 'name="allowed_two_factor_methods" value="sms"' in page

    saved = client.post(METHODS_PAGE, {**KEEP_RULE, "allowed_two_factor_methods": ["totp"]})

    assert saved["Location"] == ACCOUNT
    assert saved_methods(administrator.organization) == ("totp",)
    assert AuditEvent.objects.get(event=Event.POLICY_CHANGED).actor == administrator.user


def test_page_refuses_no_method_with_a_clear_message(administrator):
    client = freshly_signed_in(Client(), administrator)
    refused = client.post(METHODS_PAGE, KEEP_RULE)
    assert refused.status_code == 200
    assert "Allow at least one two-factor method." in refused.content.decode()
    assert saved_methods(administrator.organization) == METHODS


# --- Enrollment offers only allowed methods -----------------------------------------------------


def test_a_method_not_allowed_cannot_be_set_up_in_the_api(member):
    allow(member.organization, "totp")
    client = freshly_signed_in(Client(), member)
    assert client.get("/api/v1/two-factor").json()["data"]["allowed_methods"] == ["totp"]
    refused = send(client, "POST", "/api/v1/two-factor/sms", {"phone": "079 123 45 67"})
    assert refused.status_code == 403
    assert errors(refused) == [("two_factor_method_not_allowed", "method")]
    assert send(client, "POST", "/api/v1/two-factor/totp").status_code == 202


def test_an_app_not_allowed_cannot_be_set_up_in_the_api(member):
    allow(member.organization, "sms")
    client = freshly_signed_in(Client(), member)
    refused = send(client, "POST", "/api/v1/two-factor/totp")
    assert refused.status_code == 403
    assert errors(refused) == [("two_factor_method_not_allowed", "method")]


def test_settings_page_offers_only_allowed_methods_and_explains_a_refusal(member, sms_outbox):
    allow(member.organization, "totp")
    client = freshly_signed_in(Client(), member)
    page = client.get("/settings/security/").content.decode()
    assert "Set up an authenticator app" in page
    assert "Enable Two-Factor Authentication" not in page  # SMS: not allowed

    refused = client.post(
        "/settings/security/2fa/enable/", {"country": "CH", "phone": "079 123 45 67"}
    )
    assert "does not allow Text message (SMS)" in refused.content.decode()
    assert sms_outbox.messages() == []


def test_forced_enrollment_offers_only_allowed_methods(member, administrator):
    from tests.conftest import require_two_factor

    require_two_factor(administrator.organization)
    allow(administrator.organization, "totp")
    client = Client()
    password_step(client, member.user.email)
    assert client.get(ENROLL_NUMBER)["Location"] == ENROLL_APP  # no SMS to offer
    page = client.get(ENROLL_APP).content.decode()
    assert "Use text messages instead" not in page

    token = app_api(
        app := Client(), "/auth/login", {"email": member.user.email, "password": PASSWORD}
    )
    session_token = token.json()["meta"]["session_token"]
    state = app.get("/_allauth/app/v1/auth/2fa/enroll", HTTP_X_SESSION_TOKEN=session_token)
    assert state.json()["data"]["methods"] == ["totp"]
    refused = app_api(app, "/auth/2fa/enroll/sms", {"phone": "079 123 45 67"}, session_token)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "two_factor_method_not_allowed"


# --- Sign-in ------------------------------------------------------------------------------------


def test_a_factor_no_longer_allowed_is_not_accepted_at_sign_in(member, sms_outbox):
    secret = give_totp_factor(member)
    give_sms_factor(member)
    allow(member.organization, "totp")
    client = Client()
    password_step(client, member.user.email)
    assert "authenticator app" in client.get(SECOND_STEP).content.decode()
    other_ways = client.get("/accounts/2fa/other/").content.decode()
    assert "Text a code" not in other_ways  # the app is the only factor accepted
    chosen = client.post("/accounts/2fa/other/", {"method": "sms"}, follow=True)
    assert "no longer accepts this method" in chosen.content.decode()
    assert sms_outbox.messages() == []
    assert client.post(SECOND_STEP, {"code": totp_code(secret)})["Location"] == "/"


def test_api_refuses_a_code_of_a_factor_no_longer_allowed(member, sms_outbox):
    give_totp_factor(member)
    give_sms_factor(member)
    allow(member.organization, "totp")
    app = Client()
    login = app_api(app, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    token = login.json()["meta"]["session_token"]
    challenge = app.get("/_allauth/app/v1/auth/2fa/verify", HTTP_X_SESSION_TOKEN=token).json()
    assert challenge["data"]["methods"] == ["totp", "backup_code"]
    refused = app_api(app, "/auth/2fa/verify", {"method": "sms", "code": "123456"}, token)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "two_factor_method_not_allowed"
    chosen = app_api(app, "/auth/2fa/method", {"method": "sms"}, token)
    assert chosen.status_code == 403


def test_member_whose_only_factor_is_no_longer_allowed_adds_an_allowed_one(member, sms_outbox):
    """Issue 19: not texted (the account no longer trusts texts), told why, no "remember this
    device"; a backup code, then an allowed factor."""
    from twofold.factors.backup_codes import flows as backup_codes

    give_sms_factor(member)
    shown = backup_codes.create_pending(member.user)
    backup_codes.activate_pending(member.user)
    codes_before = set(BackupCode.objects.filter(user=member.user).values_list("pk", flat=True))
    allow(member.organization, "totp")
    client = Client()

    assert password_step(client, member.user.email)["Location"] == SECOND_STEP
    assert sms_outbox.messages() == []
    assert client.get(SECOND_STEP)["Location"] == BACKUP_CODE_STEP
    step = client.get(BACKUP_CODE_STEP).content.decode()
    assert "no longer allows your two-factor method (Text message (SMS))" in step
    assert "remember_device" not in step
    assert client.post(SECOND_STEP, {"code": "123456"})["Location"] == BACKUP_CODE_STEP
    used = client.post(BACKUP_CODE_STEP, {"code": shown[0], "remember_device": "on"})
    assert used["Location"] == "/accounts/2fa/enroll/"
    assert "twofold-device" not in used.cookies
    assert client.get("/api/v1/me").status_code == 401  # no session before an allowed factor
    assert client.get("/accounts/2fa/enroll/")["Location"] == ENROLL_NUMBER  # no "Later"
    assert client.get(ENROLL_NUMBER)["Location"] == ENROLL_APP
    page = client.get(ENROLL_APP).content.decode()
    assert "no longer allows the two-factor method you use" in page
    assert "Step 1 of 2" not in page  # no second step: the backup codes stay
    assert client.post("/accounts/2fa/enroll/later/")["Location"] == ENROLL_NUMBER

    secret = client.get(ENROLL_APP).context["setup"].secret
    done = client.post(ENROLL_APP, {"code": totp_code(secret)})

    assert done["Location"] == "/"
    assert member_factors.methods(member.user) == ["totp", "sms"]
    me = client.get("/api/v1/me").json()["data"]
    assert me["aal"] == "aal2"
    # One set of backup codes, whatever the factors: the member's stay valid.
    assert set(BackupCode.objects.filter(user=member.user).values_list("pk", flat=True)) == (
        codes_before
    )


def test_api_member_whose_only_factor_is_no_longer_allowed_adds_an_allowed_one(member, sms_outbox):
    from twofold.factors.backup_codes import flows as backup_codes

    give_sms_factor(member)
    shown = backup_codes.create_pending(member.user)
    backup_codes.activate_pending(member.user)
    allow(member.organization, "totp")
    app = Client()
    login = app_api(app, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    token = login.json()["meta"]["session_token"]
    assert sms_outbox.messages() == []  # the account no longer trusts texts
    challenge = app.get("/_allauth/app/v1/auth/2fa/verify", HTTP_X_SESSION_TOKEN=token).json()
    assert challenge["data"]["methods"] == ["backup_code"]
    step = app_api(app, "/auth/2fa/verify", {"method": "backup_code", "code": shown[0]}, token)
    assert ENROLL_STAGE in step.json()["data"]["flows"]
    assert app_api(app, "/auth/2fa/enroll/postpone", {}, token).status_code == 409
    started = app_api(app, "/auth/2fa/enroll/totp", {}, token)
    secret = started.json()["data"]["secret"].replace(" ", "")

    done = app_api(app, "/auth/2fa/enroll/totp/confirm", {"code": totp_code(secret)}, token)

    assert done.status_code == 200
    assert done.json()["meta"]["is_authenticated"] is True
    assert member_factors.methods(member.user) == ["totp", "sms"]


def test_backup_codes_stay_valid_whatever_the_factors(member, sms_outbox):
    from twofold.factors.backup_codes import flows as backup_codes

    give_sms_factor(member)
    shown = backup_codes.create_pending(member.user)
    backup_codes.activate_pending(member.user)
    allow(member.organization, "totp")
    client = Client()
    password_step(client, member.user.email)

    used = client.post("/accounts/2fa/backup-code/", {"code": shown[0]})

    assert used["Location"] == "/accounts/2fa/enroll/"  # in; then an allowed factor is added


def test_sms_is_still_accepted_as_long_as_it_is_allowed(member, sms_outbox):
    give_sms_factor(member)
    client = Client()
    password_step(client, member.user.email)
    assert client.post(SECOND_STEP, {"code": sms_outbox.last_code()})["Location"] == "/"
    assert SmsFactor.objects.filter(user=member.user).exists()
