"""Texts and emails in the recipient's language, whoever caused them (docs/languages.md): the
member's choice, else their account's default; a text stays one GSM 7-bit part and ends with the
WebOTP line."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation

from tests.conftest import MOBILE
from twofold import clock
from twofold.factors import notifications
from twofold.factors.sms import codes
from twofold.organizations import notifications as account_notifications
from twofold.organizations.models import Membership

# The GSM 03.38 basic alphabet: outside it a text is UCS-2 and one part holds 70 characters.
GSM_7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
SIGN_IN_TEXT = {
    "de": "Ihr Twofold-Anmeldecode lautet",
    "fr": "Votre code de connexion Twofold est",
    "en": "Your Twofold sign-in code is",
}


def speaks(membership: Membership, *, member: str = "", account: str = "") -> None:
    membership.user.language = member
    membership.user.save(update_fields=["language"])
    membership.organization.default_language = account
    membership.organization.save(update_fields=["default_language"])


@pytest.mark.parametrize("language", ["de", "fr"])
@pytest.mark.parametrize("purpose", ["sign_in", "enroll", "change_number", "reauthenticate"])
def test_a_text_is_in_the_recipients_language_within_one_part(
    member: Membership, sms_outbox, language: str, purpose: str
) -> None:
    speaks(member, member=language)
    with translation.override("en"):  # whoever asked for it reads English
        codes.issue_code(member.user, MOBILE, purpose=purpose, binding="b", now=clock.now())

    body = sms_outbox.messages()[-1]["body"]
    code = sms_outbox.last_code()
    assert "Your Twofold" not in body
    assert body.splitlines()[-1] == f"@{urlsplit(settings.TWOFOLD.public_url).hostname} #{code}"
    assert len(body) <= 160
    assert set(body) <= GSM_7, set(body) - GSM_7
    if purpose == "sign_in":
        assert body.startswith(f"{SIGN_IN_TEXT[language]} {code}.")


def test_a_text_follows_the_accounts_default_when_the_member_chose_none(
    member: Membership, sms_outbox
) -> None:
    speaks(member, account="fr")
    codes.issue_code(member.user, MOBILE, purpose="sign_in", binding="b", now=clock.now())

    assert sms_outbox.messages()[-1]["body"].startswith(SIGN_IN_TEXT["fr"])


def test_the_members_choice_wins_over_the_accounts_default(member: Membership, sms_outbox) -> None:
    speaks(member, member="de", account="fr")
    codes.issue_code(member.user, MOBILE, purpose="sign_in", binding="b", now=clock.now())

    assert sms_outbox.messages()[-1]["body"].startswith(SIGN_IN_TEXT["de"])


def test_an_email_is_in_the_recipients_language(member: Membership) -> None:
    speaks(member, member="de")
    with translation.override("fr"):  # an administrator reading French caused it
        notifications.send_two_factor_disabled(member.user)

    sent = mail.outbox[-1]
    assert "Die Zwei-Faktor-Authentifizierung wurde ausgeschaltet" in sent.subject
    assert "Zur Anmeldung genügt jetzt Ihr Passwort." in sent.body
    assert "Hallo von Twofold!" in sent.body
    assert translation.get_language() == "en"  # the request's language is back


def test_an_email_about_the_account_follows_the_accounts_default(member: Membership) -> None:
    speaks(member, account="fr")
    account_notifications.send_deactivated(member)

    sent = mail.outbox[-1]
    assert "Votre accès à acme.test Inc. a été désactivé" in sent.subject
    assert "vous avez été déconnecté partout" in sent.body.lower()


def test_an_email_without_a_language_is_english(member: Membership) -> None:
    notifications.send_two_factor_disabled(member.user)

    assert mail.outbox[-1].subject.endswith("Two-factor authentication was turned off")
