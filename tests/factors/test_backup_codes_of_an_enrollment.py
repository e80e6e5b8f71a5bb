"""A set-up's backup codes are made once (``factors/backup_codes/flows.py::codes_of_enrollment``):
every reload of its last step, on a page or through the API, shows the same set until activation,
so codes a member already downloaded or printed never stop working behind their back. Until then
they are kept encrypted; once active, only their hashes remain (ASVS 6.5.2)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from tests.concurrency import at_once
from tests.conftest import MOBILE, PASSWORD, freshly_signed_in, require_two_factor
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from twofold import clock
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms import flows as sms_flows
from twofold.factors.totp import codes as totp_codes
from twofold.factors.totp import flows as totp_flows
from twofold.factors.webauthn import flows as webauthn_flows
from twofold.users.models import User

CODE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5})</code>")
SMS_CODES = "/settings/security/2fa/backup-codes/"
TOTP_CODES = "/settings/security/2fa/totp/backup-codes/"
ENROLL_CODES = "/accounts/2fa/enroll/backup-codes/"


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def codes_on(response: Any) -> list[str]:
    found = CODE.findall(response.content.decode())
    assert len(found) == 10, response.content.decode()[:400]
    return found


def pending_rows(user: User) -> int:
    return BackupCode.objects.filter(user=user, active=False).count()


def confirmed_number(client: Client, sms_outbox: Any) -> None:
    assert post(client, "/api/v1/two-factor/sms", {"phone": "079 123 45 67"}).status_code == 202
    post(client, "/api/v1/two-factor/sms/confirm", {"code": sms_outbox.last_code()})


def test_a_reload_of_the_sms_enrollments_codes_shows_the_same_set_on_pages_and_api(
    member, sms_outbox
):
    client = freshly_signed_in(Client(), member)
    confirmed_number(client, sms_outbox)
    first = codes_on(client.get(SMS_CODES))
    assert codes_on(client.get(SMS_CODES)) == first  # a reload
    assert post(client, "/api/v1/two-factor/backup-codes").json()["data"]["codes"] == first
    assert pending_rows(member.user) == 10
    done = client.post(SMS_CODES, {"saved_backup_codes": "on"})
    assert done.status_code == 302
    for code in first:  # every code the member saved works
        backup_codes.consume_backup_code(member.user, code)
    assert backup_codes.remaining(member.user) == 0


def test_the_page_says_the_codes_stay_the_same_until_activation(member, sms_outbox):
    client = freshly_signed_in(Client(), member)
    confirmed_number(client, sms_outbox)
    page = client.get(SMS_CODES).content.decode()
    assert "shown only this once" not in page
    assert "They stay the same until you activate" in page
    refused = client.post(SMS_CODES, {}).content.decode()
    assert "show them again" in refused
    assert codes_on(client.get(SMS_CODES))  # and they are the same set (above)


def test_a_reload_of_a_first_apps_codes_shows_the_same_set_on_pages_and_api(member):
    client = freshly_signed_in(Client(), member)
    secret = client.get("/settings/security/2fa/totp/").context["setup"].secret
    client.post("/settings/security/2fa/totp/", {"code": totp_codes.code_at(secret, clock.now())})
    first = codes_on(client.get(TOTP_CODES))
    assert codes_on(client.get(TOTP_CODES)) == first
    api = post(client, "/api/v1/two-factor/totp/backup-codes").json()["data"]["codes"]
    assert api == first
    client.post(TOTP_CODES, {"saved_backup_codes": "on"})
    assert backup_codes.consume_backup_code(member.user, first[9]) == 9


def test_a_first_keys_codes_are_the_same_at_every_call(member):
    user, session = member.user, SessionStore()
    rp = webauthn_flows.RelyingParty(id="testserver")
    options = webauthn_flows.begin_registration(user, session, rp, passkey=False)
    token = SoftAuthenticator()
    webauthn_flows.complete_registration(user, session, rp, "Key", token.create(options))
    first = webauthn_flows.show_backup_codes(user, session)
    assert webauthn_flows.show_backup_codes(user, session) == first
    webauthn_flows.activate(user, session, saved_backup_codes=True)
    assert backup_codes.consume_backup_code(user, first[0]) == 9


def test_forced_enrollment_shows_the_same_codes_at_every_visit(
    client, member, account_requiring_2fa, sms_outbox
):
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    client.post("/accounts/2fa/enroll/number/", {"country": "CH", "phone": "079 123 45 67"})
    client.post("/accounts/2fa/enroll/confirm/", {"code": sms_outbox.last_code(MOBILE)})
    first = codes_on(client.get(ENROLL_CODES))
    assert codes_on(client.get(ENROLL_CODES)) == first
    page = client.get(ENROLL_CODES).content.decode()
    assert "shown only this once" not in page
    client.post(ENROLL_CODES, {"saved_backup_codes": "on"})
    assert backup_codes.consume_backup_code(member.user, first[3]) == 9


def test_forced_enrollment_api_answers_the_same_codes_after_the_confirmation(member, administrator):
    require_two_factor(administrator.organization)
    app = Client()
    base = "/_allauth/app/v1/auth"
    login = post(app, f"{base}/login", {"email": member.user.email, "password": PASSWORD})
    token = {"HTTP_X_SESSION_TOKEN": login.json()["meta"]["session_token"]}
    secret = (
        app.post(f"{base}/2fa/enroll/totp", "{}", content_type="application/json", **token)
        .json()["data"]["secret"]
        .replace(" ", "")
    )
    code = json.dumps({"code": totp_codes.code_at(secret, clock.now())})
    confirm = app.post(
        f"{base}/2fa/enroll/totp/confirm", code, content_type="application/json", **token
    )
    first = confirm.json()["data"]["codes"]
    again = app.post(
        f"{base}/2fa/enroll/backup-codes", "{}", content_type="application/json", **token
    )
    assert again.json()["data"]["codes"] == first


def test_a_new_set_up_gets_new_codes(member, sms_outbox):
    client = freshly_signed_in(Client(), member)
    confirmed_number(client, sms_outbox)
    first = codes_on(client.get(SMS_CODES))
    post(client, "/api/v1/two-factor/cancel")
    client.get("/")  # the resend cooldown is per number: another number
    assert post(client, "/api/v1/two-factor/sms", {"phone": "078 111 22 33"}).status_code == 202
    post(client, "/api/v1/two-factor/sms/confirm", {"code": sms_outbox.last_code()})
    second = codes_on(client.get(SMS_CODES))
    assert not set(first) & set(second)
    assert pending_rows(member.user) == 10


def test_asvs_6_5_2_pending_codes_are_kept_encrypted_and_only_hashes_remain_once_active(
    member, sms_outbox
):
    client = freshly_signed_in(Client(), member)
    confirmed_number(client, sms_outbox)
    shown = codes_on(client.get(SMS_CODES))
    stored = " ".join(
        f"{row.sealed} {row.code_hash}" for row in BackupCode.objects.filter(user=member.user)
    )
    assert not any(backup_codes.normalized(code) in stored for code in shown)
    assert all(row.sealed for row in BackupCode.objects.filter(user=member.user))
    client.post(SMS_CODES, {"saved_backup_codes": "on"})
    active = BackupCode.objects.filter(user=member.user)
    assert active.count() == 10
    assert all(row.active and not row.sealed and not row.enrollment for row in active)


def test_regenerated_codes_are_never_kept_encrypted(member_with_sms):
    sms_flows.regenerate_backup_codes(member_with_sms.user)
    assert not BackupCode.objects.filter(user=member_with_sms.user).exclude(sealed="").exists()


@pytest.mark.django_db(transaction=True)
def test_20_simultaneous_reloads_of_the_codes_show_one_set(member):
    user, session = member.user, SessionStore()
    setup = totp_flows.start(user, session)
    totp_flows.confirm(user, session, totp_codes.code_at(setup.secret, clock.now()))
    session.save()
    key = session.session_key

    def reload() -> tuple[str, ...]:
        return tuple(totp_flows.show_backup_codes(User.objects.get(pk=user.pk), SessionStore(key)))

    outcomes = at_once(reload)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(set(outcomes)) == 1
    assert pending_rows(user) == 10
