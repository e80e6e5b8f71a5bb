"""Members are emailed when an administrator changes their access (ASVS 6.3.7), on every path."""

from __future__ import annotations

from django.core import mail
from django.test import Client

from twofold.organizations.models import Membership


def administrator_browser(administrator: Membership) -> Client:
    client = Client()
    client.force_login(administrator.user)
    return client


def test_asvs_6_3_7_member_is_emailed_when_their_role_changes(administrator, member):
    administrator_browser(administrator).post(
        f"/account/members/{member.pk}/role", {"role": "administrator"}
    )
    (message,) = mail.outbox
    assert message.to == [member.user.email]
    assert message.subject == "[Twofold] Your role in acme.test Inc. is now administrator"
    assert "changed your role to administrator" in message.body


def test_setting_the_same_role_again_sends_nothing(administrator, member):
    administrator_browser(administrator).post(
        f"/account/members/{member.pk}/role", {"role": "member"}
    )
    assert mail.outbox == []


def test_asvs_6_3_7_deactivated_member_is_told_by_email(administrator, member):
    administrator_browser(administrator).post(f"/account/members/{member.pk}/deactivate")
    (message,) = mail.outbox
    assert message.to == [member.user.email]
    assert "was turned off" in message.subject
    assert "signed out everywhere" in message.body


def test_asvs_6_3_7_reactivated_member_is_told_by_email(administrator, member):
    admin = administrator_browser(administrator)
    admin.post(f"/account/members/{member.pk}/deactivate")
    admin.post(f"/account/members/{member.pk}/reactivate")
    admin.post(f"/account/members/{member.pk}/reactivate")  # already active: no second email
    assert [m.subject for m in mail.outbox][1:] == [
        "[Twofold] Your access to acme.test Inc. was turned back on"
    ]
    assert "You can sign in again" in mail.outbox[1].body


def test_role_change_through_the_api_emails_the_member(administrator, member):
    response = administrator_browser(administrator).patch(
        f"/api/v1/members/{member.pk}", {"role": "administrator"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert [m.to for m in mail.outbox] == [[member.user.email]]
