"""Setting up, removing and preferring an authenticator app on the settings pages
(web/factors/totp.py, web/factors/any_method.py)."""

from __future__ import annotations

import json
import re

from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor
from tests.factors.totp.browsers import other_device, signed_in
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors import member_factors
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms.models import SmsFactor
from twofold.factors.totp import codes

SETTINGS = "/settings/security/"
ENABLE = "/settings/security/2fa/totp/"
BACKUP_CODES = "/settings/security/2fa/totp/backup-codes/"
PREFERRED = "/settings/security/2fa/preferred/"
KEY = re.compile(r'<code class="totp-key" id="totp-key" data-copy-value="([A-Z2-7]+)">')


def key_on(page: bytes) -> str:
    match = KEY.search(page.decode())
    assert match, "no key on the page"
    return match.group(1).replace(" ", "")


def api(client: Client, method: str, path: str, body: dict | None = None):
    return client.generic(
        method, f"/api/v1{path}", json.dumps(body or {}), content_type="application/json"
    )


def test_setting_up_the_first_factor_shows_qr_key_then_backup_codes(member):
    client = signed_in(member.user.email)
    page = client.get(ENABLE)
    assert page.status_code == 200
    assert b'src="data:image/svg+xml;base64,' in page.content  # no inline script (CSP)
    assert page["Cache-Control"].startswith("max-age=0")
    secret = key_on(page.content)
    assert Authenticator.objects.count() == 0  # nothing active before the confirmation

    response = client.post(ENABLE, {"code": codes.code_at(secret, clock.now())})
    assert response["Location"] == BACKUP_CODES
    # The backup codes and the activation: tests/factors/test_activation.py.
    client.get(BACKUP_CODES)
    client.post(BACKUP_CODES, {"saved_backup_codes": "on"})
    assert "authenticator app" in mail.outbox[-1].body
    assert b"Authenticator app" in client.get(SETTINGS).content


def test_a_wrong_code_keeps_the_setup_and_says_why(member):
    client = signed_in(member.user.email)
    secret = key_on(client.get(ENABLE).content)
    wrong = f"{(int(codes.code_at(secret, clock.now())) + 1) % 10**6:06d}"
    page = client.post(ENABLE, {"code": wrong})
    assert page.status_code == 200
    assert b"not right" in page.content
    assert key_on(page.content) == secret  # the same key: the app already has it
    assert b"6 digits" in client.post(ENABLE, {"code": "12"}).content


def test_adding_an_app_beside_sms_keeps_the_one_set_of_backup_codes(member_with_sms, sms_outbox):
    before = set(BackupCode.objects.filter(user=member_with_sms.user).values_list("pk", flat=True))
    client = signed_in(member_with_sms.user.email, sms_outbox)
    secret = key_on(client.get(ENABLE).content)
    response = client.post(ENABLE, {"code": codes.code_at(secret, clock.now())})
    assert response["Location"] == SETTINGS  # no second set of backup codes
    assert member_factors.methods(member_with_sms.user) == ["totp", "sms"]
    after = set(BackupCode.objects.filter(user=member_with_sms.user).values_list("pk", flat=True))
    assert after == before
    assert AuditEvent.objects.get(event=Event.FACTOR_ADDED).factor == "totp"
    assert "Authenticator app" in mail.outbox[-1].body


def test_adding_sms_beside_an_app_needs_no_second_set_of_backup_codes(member_with_totp, sms_outbox):
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    client.post("/settings/security/2fa/enable/", {"phone": "079 123 45 67", "country": "CH"})
    response = client.post("/settings/security/2fa/confirm/", {"code": sms_outbox.last_code()})
    assert response["Location"] == SETTINGS
    assert member_factors.methods(member_with_totp.user) == ["totp", "sms"]
    assert BackupCode.objects.filter(user=member_with_totp.user, active=False).count() == 0
    assert AuditEvent.objects.get(event=Event.FACTOR_ADDED).factor == "sms"


def test_removing_one_of_two_factors_keeps_2fa_and_backup_codes(member_with_totp, sms_outbox):
    give_sms_factor(member_with_totp)
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    assert client.get("/settings/security/2fa/totp/remove/").status_code == 200
    response = client.post("/settings/security/2fa/totp/remove/")
    assert response["Location"] == SETTINGS
    assert member_factors.methods(member_with_totp.user) == ["sms"]
    assert BackupCode.objects.filter(user=member_with_totp.user, active=True).count() == 10
    assert AuditEvent.objects.get(event=Event.FACTOR_REMOVED).factor == "totp"


def test_removing_the_last_factor_turns_2fa_off(member_with_totp):
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    client.post("/settings/security/2fa/totp/remove/")
    assert not member_factors.has_second_factor(member_with_totp.user)
    assert not BackupCode.objects.filter(user=member_with_totp.user).exists()
    assert AuditEvent.objects.get(event=Event.TWO_FACTOR_DISABLED).factor == "totp"


def test_removing_the_last_factor_is_refused_while_the_account_requires_2fa(
    member_with_totp, account_requiring_2fa
):
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    assert b"cannot be turned off" in client.get("/settings/security/2fa/totp/remove/").content
    client.post("/settings/security/2fa/totp/remove/")
    assert member_factors.methods(member_with_totp.user) == ["totp"]
    assert api(client, "DELETE", "/two-factor/totp").status_code == 403


def test_preferred_factor_is_chosen_among_the_members_own(member_with_totp, client):
    give_sms_factor(member_with_totp)
    client.force_login(member_with_totp.user)
    assert member_factors.preferred(member_with_totp.user) == "totp"  # the strongest by default
    client.post(PREFERRED, {"method": "sms"})
    assert member_factors.preferred(member_with_totp.user) == "sms"
    assert AuditEvent.objects.get(event=Event.PREFERRED_FACTOR_CHANGED).factor == "sms"
    SmsFactor.objects.filter(user=member_with_totp.user).delete()
    assert member_factors.preferred(member_with_totp.user) == "totp"  # what is left
    response = client.post(PREFERRED, {"method": "sms"}, follow=True)
    assert b"methods you have set up" in response.content


def test_reset_page_says_the_authenticator_app_stops_working(administrator, member_with_totp):
    client = signed_in(administrator.user.email)
    reset_page = f"/account/members/{member_with_totp.pk}/reset-two-factor"
    assert b"Their authenticator app stops working" in client.get(reset_page).content
    assert client.post(reset_page).status_code == 302
    assert member_factors.methods(member_with_totp.user) == []


def test_settings_page_lists_both_factors_with_preferred_and_remove(member_with_totp, client):
    give_sms_factor(member_with_totp)
    client.force_login(member_with_totp.user)
    page = client.get(SETTINGS).content.decode()
    assert "Ask me first for" in page
    assert 'value="totp" checked' in page
    assert "/settings/security/2fa/totp/remove/" in page
    assert "/settings/security/2fa/sms/remove/" in page
    assert "Add an authenticator app" not in page


# --- The offer to end other sessions after a change of factors (ASVS 7.4.3) --------------------

OFFER = "Your sign-in methods changed"


def test_asvs_7_4_3_adding_an_app_offers_to_end_the_other_sessions(member_with_sms, sms_outbox):
    email = member_with_sms.user.email
    client = signed_in(email, sms_outbox)
    other = Client()  # within the SMS resend cooldown: with a backup code
    other.post("/accounts/login/", {"login": email, "password": PASSWORD})
    other.post("/accounts/2fa/backup-code/", {"code": member_with_sms.backup_codes[0]})
    secret = key_on(client.get(ENABLE).content)
    done = client.post(ENABLE, {"code": codes.code_at(secret, clock.now())}, follow=True)
    assert OFFER in done.content.decode()
    assert other.get("/api/v1/me").status_code == 200  # only offered, nothing ended


def test_asvs_7_4_3_removing_an_app_offers_it_in_the_page_and_api(member_with_totp, sms_outbox):
    give_sms_factor(member_with_totp)
    email, secret = member_with_totp.user.email, member_with_totp.totp_secret
    other_device(email, secret)
    client = signed_in(email, secret=secret)
    done = client.post("/settings/security/2fa/totp/remove/", follow=True)
    assert OFFER in done.content.decode()
    removed = api(client, "DELETE", "/two-factor/sms")
    assert removed.json()["data"]["other_sessions"] == 1


def test_the_key_is_shown_in_groups_of_four_with_a_copy_button(member):
    page = signed_in(member.user.email).get(ENABLE).content.decode()
    secret = key_on(page.encode())
    shown = re.search(r'<code class="totp-key"[^>]*>(.*?)</code>', page).group(1)
    groups = re.findall(r"<span>([A-Z2-7]+)</span>", shown)
    assert "".join(groups) == secret
    assert all(len(group) == 4 for group in groups[:-1])
    assert 'data-copy="totp-key"' in page  # copies data-copy-value: the key without spaces


def test_new_backup_codes_of_an_app_only_member_speak_of_no_text_message(member_with_totp):
    """Issue 19: the page is about whatever the member uses, not text messages."""
    client = freshly_signed_in(Client(), member_with_totp, second_factor="totp")

    shown = client.post("/settings/security/2fa/backup-codes/new/").content.decode()

    assert "If you lose your phone, app or security key" in shown
    assert "text message" not in shown
