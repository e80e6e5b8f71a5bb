""" "Remember this device for 30 days" on the second-factor step (signin/remembered.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD, give_totp_factor, signed_in
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.organizations.models import Organization
from twofold.signin import remembered
from twofold.signin.models import RememberedDevice

SECOND_STEP = "/accounts/2fa/"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
COOKIE = remembered.COOKIE_NAME


def password_step(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def sign_in_remembering(client: Client, membership, sms_outbox, *, remember: bool = True):
    """Password, then the texted code with the box ticked (or not)."""
    assert password_step(client, membership.user.email)["Location"] == SECOND_STEP
    data = {"code": sms_outbox.last_code()}
    if remember:
        data["remember_device"] = "on"
    response = client.post(SECOND_STEP, data)
    assert response["Location"] == "/"
    return response


def sign_out(client: Client) -> None:
    client.post("/accounts/logout/")


def second_step_asked(client: Client, membership) -> bool:
    sign_out(client)
    return password_step(client, membership.user.email)["Location"] == SECOND_STEP


def allow_remembering(organization: Organization, allowed: bool) -> None:
    organization.allow_remembered_devices = allowed
    organization.save(update_fields=["allow_remembered_devices"])


def test_the_box_is_offered_on_the_second_step(client, member_with_sms):
    password_step(client, member_with_sms.user.email)
    assert "Remember this device for 30 days" in client.get(SECOND_STEP).content.decode()


def test_remembering_sets_a_hardened_cookie_and_stores_only_its_hash(member_with_sms, sms_outbox):
    client = Client(HTTP_USER_AGENT=FIREFOX)
    response = sign_in_remembering(client, member_with_sms, sms_outbox)

    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == 30 * 24 * 3600
    assert bool(cookie["secure"]) == (
        settings.SESSION_COOKIE_SECURE or COOKIE.startswith("__Host-")
    )
    device = RememberedDevice.objects.get(user=member_with_sms.user)
    assert device.token_hash == hashlib.sha256(cookie.value.encode()).hexdigest()
    assert cookie.value not in device.token_hash
    assert device.device == "Firefox on Windows"
    assert device.expires_at - device.created_at == timedelta(days=30)
    event = AuditEvent.objects.get(event=Event.DEVICE_REMEMBERED)
    assert event.detail == {"device": "Firefox on Windows"}


def test_asvs_3_3_cookie_takes_the_host_prefix_wherever_the_session_cookie_does():
    assert COOKIE.startswith("__Host-") == settings.SESSION_COOKIE_NAME.startswith("__Host-")


def test_a_remembered_browser_skips_the_second_step_at_aal1(member_with_sms, sms_outbox):
    client = Client()
    sign_in_remembering(client, member_with_sms, sms_outbox)
    sign_out(client)
    texts = len(sms_outbox.messages())

    assert password_step(client, member_with_sms.user.email)["Location"] == "/"

    assert len(sms_outbox.messages()) == texts  # no code texted
    me = client.get("/api/v1/me").json()["data"]
    # No authenticator of NIST SP 800-63B-4: the password's level, and 2FA still required.
    assert (me["amr"], me["aal"]) == (["pwd", "remembered"], "aal1")
    assert RememberedDevice.objects.get().last_used_at is not None


def test_without_the_box_the_browser_is_not_remembered(member_with_sms, sms_outbox):
    client = Client()
    response = sign_in_remembering(client, member_with_sms, sms_outbox, remember=False)
    assert COOKIE not in response.cookies
    assert not RememberedDevice.objects.exists()
    assert second_step_asked(client, member_with_sms)


def test_the_password_is_still_asked(member_with_sms, sms_outbox):
    client = Client()
    sign_in_remembering(client, member_with_sms, sms_outbox)
    sign_out(client)
    wrong = client.post(
        "/accounts/login/", {"login": member_with_sms.user.email, "password": "not-it-at-all"}
    )
    assert wrong.status_code == 200
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(("days", "asked"), [(29, False), (30, True)])
def test_a_remembered_browser_counts_for_30_days(
    member_with_sms, sms_outbox, monkeypatch, days, asked
):
    client = Client()
    sign_in_remembering(client, member_with_sms, sms_outbox)
    later = clock.now() + timedelta(days=days, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert second_step_asked(client, member_with_sms) is asked
    if asked:
        assert not RememberedDevice.objects.exists()  # expired: forgotten


def test_a_forgotten_browser_asks_for_the_second_step_again(member_with_sms, sms_outbox):
    client = Client()
    sign_in_remembering(client, member_with_sms, sms_outbox)
    page = client.get("/settings/security/").content.decode()
    assert "Remembered devices" in page
    assert "(this browser)" in page
    device = RememberedDevice.objects.get()

    client.post(f"/settings/security/devices/{device.pk}/forget")

    assert not RememberedDevice.objects.exists()
    forgotten = AuditEvent.objects.get(event=Event.DEVICE_FORGOTTEN)
    assert forgotten.detail["reason"] == "member"
    assert second_step_asked(client, member_with_sms)


def test_forget_all_devices(member_with_sms, sms_outbox):
    first, second = Client(), Client()
    sign_in_remembering(first, member_with_sms, sms_outbox)
    # Within the resend cooldown no second text: a backup code, the box ticked just the same.
    password_step(second, member_with_sms.user.email)
    data = {"code": member_with_sms.backup_codes[0], "remember_device": "on"}
    assert second.post("/accounts/2fa/backup-code/", data)["Location"] == "/"
    assert RememberedDevice.objects.count() == 2
    first.post("/settings/security/devices/forget-all")
    assert not RememberedDevice.objects.exists()
    assert second_step_asked(second, member_with_sms)


def test_another_members_device_cannot_be_forgotten(member_with_sms, sms_outbox, administrator):
    sign_in_remembering(Client(), member_with_sms, sms_outbox)
    device = RememberedDevice.objects.get()
    other = signed_in(Client(), administrator)
    other.post(f"/settings/security/devices/{device.pk}/forget")
    assert RememberedDevice.objects.filter(pk=device.pk).exists()
    refused = other.delete(f"/api/v1/remembered-devices/{device.pk}")
    assert refused.status_code == 404
    assert refused.json()["errors"][0]["code"] == "device_not_found"
    assert RememberedDevice.objects.filter(pk=device.pk).exists()


def test_another_members_cookie_does_not_skip_the_second_step(
    member_with_sms, sms_outbox, make_member, administrator
):
    from tests.conftest import give_sms_factor

    colleague = give_sms_factor(
        make_member("cleo@acme.test", organization=administrator.organization), "+41791112233"
    )
    browser = Client()
    sign_in_remembering(browser, member_with_sms, sms_outbox)
    token = browser.cookies[COOKIE].value

    # The same browser, another member; then another browser carrying the first member's token.
    assert second_step_asked(browser, colleague)
    elsewhere = Client()
    elsewhere.cookies[COOKIE] = token
    assert password_step(elsewhere, colleague.user.email)["Location"] == SECOND_STEP
    assert RememberedDevice.objects.filter(user=member_with_sms.user).exists()


def test_a_made_up_token_does_not_skip_the_second_step(member_with_sms):
    client = Client()
    client.cookies[COOKIE] = "made-up"
    assert password_step(client, member_with_sms.user.email)["Location"] == SECOND_STEP


def test_a_factor_change_voids_the_remembered_browser(member_with_sms, sms_outbox):
    client = Client()
    sign_in_remembering(client, member_with_sms, sms_outbox)
    give_totp_factor(member_with_sms)  # a factor added

    assert second_step_asked(client, member_with_sms)
    assert not RememberedDevice.objects.exists()
    forgotten = AuditEvent.objects.get(event=Event.DEVICE_FORGOTTEN)
    assert forgotten.detail["reason"] == "factors_changed"


def test_a_new_phone_number_voids_the_remembered_browser(member_with_sms, sms_outbox):
    from twofold.factors.sms.models import SmsFactor

    client = Client()
    sign_in_remembering(client, member_with_sms, sms_outbox)
    SmsFactor.objects.filter(user=member_with_sms.user).update(phone="+41799998877")
    assert second_step_asked(client, member_with_sms)


def test_an_administrators_reset_voids_the_remembered_browser(
    member_with_sms, sms_outbox, administrator
):
    from tests.conftest import give_sms_factor
    from twofold.factors.sms.models import SmsFactor

    client = Client()
    sign_in_remembering(client, member_with_sms, sms_outbox)
    # Reset, then the member set up the same number again: another factor all the same.
    SmsFactor.objects.filter(user=member_with_sms.user).delete()
    give_sms_factor(member_with_sms)
    assert second_step_asked(client, member_with_sms)


def test_an_account_that_turns_it_off_voids_remembered_browsers(member_with_sms, sms_outbox):
    client = Client()
    sign_in_remembering(client, member_with_sms, sms_outbox)
    allow_remembering(member_with_sms.organization, False)

    assert second_step_asked(client, member_with_sms)
    assert "Remember this device" not in client.get(SECOND_STEP).content.decode()
    data = {"code": member_with_sms.backup_codes[0], "remember_device": "on"}
    response = client.post("/accounts/2fa/backup-code/", data)
    assert response["Location"] == "/"
    assert COOKIE not in response.cookies
    assert not RememberedDevice.objects.exists()


# --- JSON API -----------------------------------------------------------------------------------


def app_api(client: Client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}
    return client.post(
        f"/_allauth/browser/v1{path}",
        json.dumps(body or {}),
        content_type="application/json",
        **headers,
    )


def test_api_remembers_lists_and_forgets(member_with_sms, sms_outbox):
    browser = Client()
    app_api(browser, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD})
    done = app_api(
        browser,
        "/auth/2fa/verify",
        {"method": "sms", "code": sms_outbox.last_code(), "remember_device": True},
    )
    assert done.status_code == 200
    assert COOKIE in done.cookies

    listed = browser.get("/api/v1/remembered-devices").json()["data"]["devices"]
    assert len(listed) == 1
    assert listed[0]["current"] is True
    assert set(listed[0]) == {"id", "device", "created_at", "expires_at", "last_used_at", "current"}

    forgotten = browser.delete("/api/v1/remembered-devices")
    assert forgotten.json()["data"] == {"forgotten": 1, "devices": []}
    assert not RememberedDevice.objects.exists()


def test_api_skips_the_second_step_on_a_remembered_browser(member_with_sms, sms_outbox):
    browser = Client()
    sign_in_remembering(browser, member_with_sms, sms_outbox)
    sign_out(browser)
    login = app_api(
        browser, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD}
    )
    assert login.status_code == 200
    assert login.json()["meta"]["is_authenticated"] is True


def test_api_account_turns_remembering_off(administrator_with_sms):
    from tests.conftest import freshly_signed_in

    client = freshly_signed_in(Client(), administrator_with_sms)
    assert (
        client.get("/api/v1/organization/security").json()["data"]["allow_remembered_devices"]
        is True
    )
    changed = client.generic(
        "PATCH",
        "/api/v1/organization/security",
        json.dumps({"allow_remembered_devices": False}),
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["data"]["allow_remembered_devices"] is False
    saved = Organization.objects.get(pk=administrator_with_sms.organization_id)
    assert saved.allow_remembered_devices is False
    assert saved.allowed_two_factor_methods == []  # left out: unchanged
    event = AuditEvent.objects.get(event=Event.POLICY_CHANGED)
    assert event.detail == {"allow_remembered_devices": {"from": True, "to": False}}


def _device(user, token: str, expires_at) -> RememberedDevice:
    return RememberedDevice.objects.create(
        user=user,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        factors=remembered.factors_fingerprint(user),
        device="Firefox on Windows",
        created_at=expires_at - remembered.REMEMBER_FOR,
        expires_at=expires_at,
    )


def test_purge_devices_deletes_only_expired_ones(member, capsys):
    from twofold import cli

    now = clock.now()
    _device(member.user, "expired", now - timedelta(days=1))
    kept = _device(member.user, "valid", now + timedelta(days=1))
    assert cli.main(["purge-devices", "--dry-run"]) == 0
    assert "Would delete 1 expired remembered device." in capsys.readouterr().out
    assert RememberedDevice.objects.count() == 2
    assert cli.main(["purge-devices"]) == 0
    assert "Deleted 1 expired remembered device." in capsys.readouterr().out
    assert list(RememberedDevice.objects.all()) == [kept]
