"""The "Password and Two-Factor Authentication" pages: enrollment, management, re-authentication.

Re-authentication-sensitive pages are driven by a browser that signed in through the sign-in
form (allauth records the authentication); ``force_login`` records nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import MOBILE, PASSWORD, age_authentication
from twofold.errors import Unavailable
from twofold.factors import status as factor_status
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms import flows
from twofold.factors.sms.forms import PhoneForm
from twofold.factors.sms.models import PendingSmsEnrollment, SmsFactor
from twofold.sms.numbers import InvalidPhoneNumber, formatted, parse_mobile

SETTINGS = "/settings/security/"
ENABLE = "/settings/security/2fa/enable/"
CHANGE_NUMBER = "/settings/security/2fa/change-number/"
CONFIRM = "/settings/security/2fa/confirm/"
RESEND = "/settings/security/2fa/confirm/resend/"
CANCEL = "/settings/security/2fa/cancel/"
BACKUP_CODES = "/settings/security/2fa/backup-codes/"
REGENERATE = "/settings/security/2fa/backup-codes/new/"
DISABLE = "/settings/security/2fa/disable/"
LANDLINE = "044 668 18 00"  # a Zurich landline
NEW_MOBILE = "+41781112233"
CODE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5})</code>")


def sign_in(client: Client, email: str, sms_outbox: Any = None) -> Client:
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    if response["Location"] == "/accounts/2fa/":
        response = client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert response.status_code == 302
    assert response["Location"] == "/"
    return client


@pytest.fixture
def fresh_member_client(member) -> Client:
    """A browser in which the member signed in with the password just now."""
    return sign_in(Client(), member.user.email)


@pytest.fixture
def fresh_member_with_sms_client(member_with_sms, sms_outbox) -> Client:
    """A browser in which the member signed in with password and SMS code just now."""
    return sign_in(Client(), member_with_sms.user.email, sms_outbox)


def no_active_factor(user) -> bool:
    return (
        not SmsFactor.objects.filter(user=user).exists()
        and not BackupCode.objects.filter(user=user, active=True).exists()
    )


def text(response) -> str:
    return response.content.decode()


def enter_number(client: Client, phone: str = "079 123 45 67", country: str = "CH"):
    return client.post(ENABLE, {"country": country, "phone": phone})


def enroll(client: Client, sms_outbox) -> list[str]:
    assert enter_number(client)["Location"] == CONFIRM
    assert client.post(CONFIRM, {"code": sms_outbox.last_code()})["Location"] == BACKUP_CODES
    codes = CODE.findall(text(client.get(BACKUP_CODES)))
    assert client.post(BACKUP_CODES, {"saved_backup_codes": "on"})["Location"] == SETTINGS
    return codes


# --- The settings page ---------------------------------------------------------------------------


def test_settings_page_lists_every_method_with_its_status_and_explains_sms_risks(member_client):
    """Issue 19: no switch that means SMS only; each method, off, with "set up"."""
    page = text(member_client.get(SETTINGS))
    assert 'role="switch"' not in page
    assert "Enable Two-Factor Authentication" not in page
    assert page.count('<span class="badge">Off</span>') == 4  # the status, and three methods
    for action in ("Set up text messages", "Set up an authenticator app", "Add a security key"):
        assert action in page
    assert "SIM swap" in page
    assert "Stronger methods" in page


def test_settings_page_shows_an_active_factor(member_with_sms):
    page = text(_client_of(member_with_sms).get(SETTINGS))
    assert "On" in page
    assert factor_status.status(member_with_sms.user).masked_phone in page
    assert "10 left" in page
    assert "never" in page  # last used
    for button in ("Change number", "New backup codes", "Turn off"):
        assert button in page
    assert "Set up text messages" not in page
    assert "Set up an authenticator app" in page  # the other methods stay listed, off
    assert "Remove text message" not in page  # the last method: "Turn off" says what it means


def test_settings_page_warns_when_few_backup_codes_are_left(member_with_sms):
    spent = BackupCode.objects.filter(user=member_with_sms.user)[:7]
    BackupCode.objects.filter(pk__in=[c.pk for c in spent]).delete()
    page = text(_client_of(member_with_sms).get(SETTINGS))
    assert 'class="badge warn">3 left' in page
    assert "Only 3 backup codes left" in page


def _client_of(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


# --- Enrollment ----------------------------------------------------------------------------------


def test_whole_enrollment_through_the_pages_activates_the_factor_and_ten_backup_codes(
    fresh_member_client, member, sms_outbox
):
    step1 = text(fresh_member_client.get(ENABLE))
    assert '<option value="CH" selected>' in step1
    assert 'autocomplete="tel"' in step1
    assert 'inputmode="tel"' in step1
    assert enter_number(fresh_member_client)["Location"] == CONFIRM

    step2 = text(fresh_member_client.get(CONFIRM))
    assert formatted(MOBILE) in step2
    assert 'autocomplete="one-time-code"' in step2
    assert 'inputmode="numeric"' in step2
    response = fresh_member_client.post(CONFIRM, {"code": sms_outbox.last_code()})
    assert response["Location"] == BACKUP_CODES

    step3 = fresh_member_client.get(BACKUP_CODES)
    codes = CODE.findall(text(step3))
    assert len(codes) == 10
    assert "backup-codes.js" in text(step3)
    assert no_active_factor(member.user)  # not before the last step

    done = fresh_member_client.post(BACKUP_CODES, {"saved_backup_codes": "on"}, follow=True)
    assert "Two-factor authentication is on." in text(done)
    assert SmsFactor.objects.get(user=member.user).phone == MOBILE
    assert BackupCode.objects.filter(user=member.user, active=True).count() == 10
    assert not PendingSmsEnrollment.objects.filter(user=member.user).exists()


@pytest.mark.parametrize("abandon_after", ["number", "code", "backup_codes"])
def test_abandoned_enrollment_leaves_no_active_factor(
    fresh_member_client, member, sms_outbox, abandon_after
):
    enter_number(fresh_member_client)
    if abandon_after in ("code", "backup_codes"):
        fresh_member_client.post(CONFIRM, {"code": sms_outbox.last_code()})
    if abandon_after == "backup_codes":
        assert len(CODE.findall(text(fresh_member_client.get(BACKUP_CODES)))) == 10
    assert no_active_factor(member.user)
    assert not factor_status.status(member.user).enabled
    page = text(fresh_member_client.get(SETTINGS))
    assert "Set up text messages" in page
    assert "It is not on yet." in page


@pytest.mark.parametrize("cancel_after", ["number", "code"])
def test_cancel_changes_nothing(fresh_member_client, member, sms_outbox, cancel_after):
    enter_number(fresh_member_client)
    if cancel_after == "code":
        fresh_member_client.post(CONFIRM, {"code": sms_outbox.last_code()})
        fresh_member_client.get(BACKUP_CODES)
    response = fresh_member_client.post(CANCEL, follow=True)
    assert "was not turned on" in text(response)
    assert no_active_factor(member.user)
    assert not PendingSmsEnrollment.objects.filter(user=member.user).exists()
    assert not BackupCode.objects.filter(user=member.user).exists()


def test_wrong_code_shows_an_error(fresh_member_client, member, sms_outbox):
    enter_number(fresh_member_client)
    wrong = f"{(int(sms_outbox.last_code()) + 1) % 10**6:06d}"
    response = fresh_member_client.post(CONFIRM, {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right" in text(response)
    assert 'role="alert"' in text(response)
    assert PendingSmsEnrollment.objects.get(user=member.user).verified_at is None


def test_code_of_the_wrong_shape_is_refused_by_the_form(fresh_member_client, sms_outbox):
    enter_number(fresh_member_client)
    response = fresh_member_client.post(CONFIRM, {"code": "12ab"})
    assert "Enter the 6 digits of the code." in text(response)


def test_landline_number_is_refused_with_the_message(fresh_member_client, member, sms_outbox):
    with pytest.raises(InvalidPhoneNumber) as raised:
        parse_mobile(LANDLINE, "CH")
    response = enter_number(fresh_member_client, LANDLINE)
    assert response.status_code == 200
    page = text(response)
    assert raised.value.message in page
    assert '<div id="id_phone_error" role="alert">' in page
    assert 'aria-invalid="true" aria-describedby="id_phone_helptext id_phone_error"' in page
    assert not PendingSmsEnrollment.objects.filter(user=member.user).exists()
    assert sms_outbox.messages() == []


def test_sms_provider_down_shows_the_message_and_changes_nothing(fresh_member_client, member):
    down = Unavailable("We could not send the text message right now.", code="sms_unavailable")
    with mock.patch("twofold.factors.sms.codes.send_sms", side_effect=down):
        response = enter_number(fresh_member_client)
    assert response.status_code == 200
    assert '<div class="alert error" role="alert"><p>We could not send' in text(response)
    assert not PendingSmsEnrollment.objects.filter(user=member.user).exists()


@pytest.mark.parametrize("action", [RESEND, CANCEL])
def test_actions_opened_as_pages_change_nothing(fresh_member_client, member, sms_outbox, action):
    enter_number(fresh_member_client)
    response = fresh_member_client.get(action)
    assert response.status_code == 302
    assert PendingSmsEnrollment.objects.filter(user=member.user).exists()
    assert len(sms_outbox.messages()) == 1


def test_number_in_another_country_is_read_in_that_country(fresh_member_client, member):
    enter_number(fresh_member_client, "078 111 22 33", country="CH")
    assert PendingSmsEnrollment.objects.get(user=member.user).phone == NEW_MOBILE
    enter_number(fresh_member_client, "0151 23456789", country="DE")
    assert PendingSmsEnrollment.objects.get(user=member.user).phone == "+4915123456789"


@pytest.mark.parametrize(
    ("data", "phone"),
    [
        ({"country": "DE", "phone": "0151 23456789"}, "+4915123456789"),
        ({"country": "DE", "phone": "+41 79 123 45 67"}, MOBILE),
        ({"country": "CH", "phone": "0041 79 123 45 67"}, MOBILE),
        ({"phone": "079 123 45 67"}, "079 123 45 67"),  # the API may leave the country out
        ({"country": "CH", "phone": "not a number"}, "not a number"),  # the flow explains
        ({"country": "CH", "phone": "1" * 50}, "1" * 50),
    ],
)
def test_phone_form_gives_the_flow_an_international_number(data, phone):
    form = PhoneForm(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == phone


def test_resend_within_the_cooldown_answers_the_cooldown_message(fresh_member_client, sms_outbox):
    enter_number(fresh_member_client)
    page = text(fresh_member_client.get(CONFIRM))
    assert 'data-countdown="' in page
    assert 'data-countdown="0"' not in page
    response = fresh_member_client.post(RESEND, follow=True)
    assert "You can ask for a new one in" in text(response)
    assert len(sms_outbox.messages()) == 1


def test_resend_after_the_cooldown_sends_a_new_code(fresh_member_client, sms_outbox, settings):
    settings.TWOFOLD = _with(settings.TWOFOLD, sms_resend_cooldown=0)
    enter_number(fresh_member_client)
    response = fresh_member_client.post(RESEND, follow=True)
    assert "A new code is on its way to" in text(response)
    assert len(sms_outbox.messages()) == 2
    code = sms_outbox.last_code()
    assert fresh_member_client.post(CONFIRM, {"code": code})["Location"] == BACKUP_CODES


def _with(twofold_settings: Any, **changes: Any) -> Any:
    return replace(twofold_settings, **changes)


def test_change_of_number_during_enrollment_starts_afresh(fresh_member_client, member, sms_outbox):
    enter_number(fresh_member_client)
    first_code = sms_outbox.last_code()
    page = text(fresh_member_client.get(ENABLE))
    assert "You started with" in page
    assert formatted(MOBILE) in page
    enter_number(fresh_member_client, "078 111 22 33")
    assert PendingSmsEnrollment.objects.get(user=member.user).phone == NEW_MOBILE
    refused = fresh_member_client.post(CONFIRM, {"code": first_code})
    assert refused.status_code == 200
    assert "Location" not in refused


def test_activation_needs_the_saved_tick(fresh_member_client, member, sms_outbox):
    enter_number(fresh_member_client)
    fresh_member_client.post(CONFIRM, {"code": sms_outbox.last_code()})
    page = text(fresh_member_client.get(BACKUP_CODES))
    assert 'type="checkbox"' in page
    assert "required" in page
    response = fresh_member_client.post(BACKUP_CODES, {})
    assert response.status_code == 200
    assert "Confirm that you have saved your backup codes." in text(response)
    assert CODE.findall(text(response)) == []  # linked to, not repeated, on the refusal
    assert no_active_factor(member.user)
    done = fresh_member_client.post(BACKUP_CODES, {"saved_backup_codes": "on"})
    assert done["Location"] == SETTINGS
    assert BackupCode.objects.filter(user=member.user, active=True).count() == 10


def test_each_visit_of_the_backup_codes_shows_the_same_set(fresh_member_client, sms_outbox):
    # One set per enrollment (tests/factors/test_backup_codes_of_an_enrollment.py).
    enter_number(fresh_member_client)
    fresh_member_client.post(CONFIRM, {"code": sms_outbox.last_code()})
    first = CODE.findall(text(fresh_member_client.get(BACKUP_CODES)))
    second = CODE.findall(text(fresh_member_client.get(BACKUP_CODES)))
    assert len(first) == 10
    assert second == first


def test_backup_codes_are_not_reached_before_the_code(fresh_member_client, sms_outbox):
    enter_number(fresh_member_client)
    response = fresh_member_client.get(BACKUP_CODES, follow=True)
    assert response.redirect_chain[-1][0] == CONFIRM
    assert "Confirm your number with the code first." in text(response)


@pytest.mark.parametrize("page", [CONFIRM, BACKUP_CODES])
def test_steps_without_an_enrollment_send_back_to_the_settings(fresh_member_client, page):
    # Fresh: these steps need the freshness of the first (tests/factors/test_binding.py).
    response = fresh_member_client.get(page, follow=True)
    assert response.redirect_chain == [(SETTINGS, 302)]
    assert "no two-factor set-up in progress" in text(response)


@pytest.mark.parametrize(
    ("page", "data"),
    [(CONFIRM, {"code": "123456"}), (BACKUP_CODES, {"saved_backup_codes": "on"}), (RESEND, {})],
)
def test_posts_after_a_cancel_elsewhere_send_back_to_the_settings(
    fresh_member_client, member, sms_outbox, page, data
):
    enter_number(fresh_member_client)
    flows.cancel(member.user)  # in another tab
    response = fresh_member_client.post(page, data, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == SETTINGS
    assert no_active_factor(member.user)


def test_backup_code_pages_are_not_cached(fresh_member_client, sms_outbox):
    enter_number(fresh_member_client)
    fresh_member_client.post(CONFIRM, {"code": sms_outbox.last_code()})
    assert "no-store" in fresh_member_client.get(BACKUP_CODES)["Cache-Control"]


def test_enable_with_an_active_factor_goes_to_the_change_of_number(
    fresh_member_with_sms_client,
):
    assert fresh_member_with_sms_client.get(ENABLE)["Location"] == CHANGE_NUMBER


# --- Change of number ----------------------------------------------------------------------------


def test_change_of_number_through_the_pages(
    fresh_member_with_sms_client, member_with_sms, sms_outbox
):
    client = fresh_member_with_sms_client
    assert client.get(CHANGE_NUMBER).status_code == 200
    assert (
        client.post(CHANGE_NUMBER, {"country": "CH", "phone": "078 111 22 33"})["Location"]
        == CONFIRM
    )
    assert sms_outbox.messages()[-1]["to"] == NEW_MOBILE
    assert "You started changing your number" in text(client.get(SETTINGS))
    assert SmsFactor.objects.get(user=member_with_sms.user).phone == MOBILE  # not yet

    done = client.post(CONFIRM, {"code": sms_outbox.last_code(NEW_MOBILE)}, follow=True)
    assert done.redirect_chain == [(SETTINGS, 302)]
    assert "Your number was changed." in text(done)
    assert SmsFactor.objects.get(user=member_with_sms.user).phone == NEW_MOBILE
    assert BackupCode.objects.filter(user=member_with_sms.user, active=True).count() == 10
    assert any("number" in m.subject.lower() for m in mail.outbox)


def test_cancelled_change_of_number_keeps_the_old_one(
    fresh_member_with_sms_client, member_with_sms, sms_outbox
):
    client = fresh_member_with_sms_client
    client.post(CHANGE_NUMBER, {"country": "CH", "phone": "078 111 22 33"})
    response = client.post(CANCEL, follow=True)
    assert "Your number was not changed." in text(response)
    assert SmsFactor.objects.get(user=member_with_sms.user).phone == MOBILE
    assert not PendingSmsEnrollment.objects.filter(user=member_with_sms.user).exists()


def test_same_number_is_refused_with_the_message(fresh_member_with_sms_client):
    response = fresh_member_with_sms_client.post(
        CHANGE_NUMBER, {"country": "CH", "phone": "079 123 45 67"}
    )
    assert response.status_code == 200
    assert "This is already your number." in text(response)


def test_change_of_number_needs_a_recent_second_factor(
    fresh_member_with_sms_client, member_with_sms, sms_outbox
):
    client = fresh_member_with_sms_client
    age_authentication(client)
    assert client.get(CHANGE_NUMBER)["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    response = client.get(CHANGE_NUMBER)
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=")
    client.post(response["Location"], {"resend": "1"})  # texts a code to the current number
    client.post(
        "/accounts/2fa/reauthenticate/",
        {"code": sms_outbox.last_code(MOBILE), "next": CHANGE_NUMBER},
    )
    assert client.get(CHANGE_NUMBER).status_code == 200


def test_change_number_without_an_active_factor_goes_to_enrollment(fresh_member_client):
    assert fresh_member_client.get(CHANGE_NUMBER)["Location"] == ENABLE


# --- Backup codes, turning off -------------------------------------------------------------------


def test_regenerate_replaces_all_codes(fresh_member_with_sms_client, member_with_sms):
    client = fresh_member_with_sms_client
    old = set(BackupCode.objects.filter(user=member_with_sms.user).values_list("pk", flat=True))
    assert "All your current backup codes stop working" in text(client.get(REGENERATE))
    response = client.post(REGENERATE)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    shown = CODE.findall(text(response))
    assert len(shown) == 10
    assert not set(shown) & set(member_with_sms.backup_codes)
    assert "Done" in text(response)
    assert "Activate two-factor authentication" not in text(response)
    active = BackupCode.objects.filter(user=member_with_sms.user, active=True)
    assert active.count() == 10
    assert not old & set(active.values_list("pk", flat=True))


def test_regenerate_without_an_active_factor_says_why(fresh_member_client):
    response = fresh_member_client.post(REGENERATE, follow=True)
    assert "Turn on two-factor authentication first." in text(response)


def test_turn_off_removes_factor_and_codes(fresh_member_with_sms_client, member_with_sms):
    client = fresh_member_with_sms_client
    assert "Turn off two-factor authentication?" in text(client.get(DISABLE))
    response = client.post(DISABLE, follow=True)
    assert "Two-factor authentication is off." in text(response)
    assert not SmsFactor.objects.filter(user=member_with_sms.user).exists()
    assert not BackupCode.objects.filter(user=member_with_sms.user).exists()


def test_turn_off_is_refused_when_the_account_requires_two_factor(
    fresh_member_with_sms_client, member_with_sms, monkeypatch
):
    monkeypatch.setattr("twofold.factors.policy.two_factor_required", lambda user: True)
    response = fresh_member_with_sms_client.post(DISABLE, follow=True)
    assert "requires two-factor authentication, so it cannot be turned off" in text(response)
    assert "required by your account" in text(response)
    assert SmsFactor.objects.filter(user=member_with_sms.user).exists()


# --- Re-authentication (ASVS 7.5.1) --------------------------------------------------------------


@pytest.mark.parametrize("page", [ENABLE, REGENERATE, DISABLE, CHANGE_NUMBER])
def test_member_who_signed_in_long_ago_is_sent_to_reauthentication(
    fresh_member_with_sms_client, page
):
    age_authentication(fresh_member_with_sms_client)
    response = fresh_member_with_sms_client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/?next=")


def test_reauthentication_resumes_the_enrollment(fresh_member_client, sms_outbox):
    age_authentication(fresh_member_client)
    assert fresh_member_client.get(ENABLE)["Location"].startswith("/accounts/reauthenticate/")
    response = fresh_member_client.post(
        f"/accounts/reauthenticate/?next={ENABLE}", {"password": PASSWORD}
    )
    assert response["Location"] == ENABLE
    assert fresh_member_client.get(ENABLE).status_code == 200


def test_signed_out_visitor_is_sent_to_sign_in(client, db):
    for page in (ENABLE, CONFIRM, BACKUP_CODES, DISABLE):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/")
