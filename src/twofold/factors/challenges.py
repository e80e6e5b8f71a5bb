"""The challenge table: how each way of passing the second factor is asked for and checked.

Sign-in's second-factor step and the re-authentication at aal2 (``signin/second_factor.py``)
ask this table and never name a method (STYLE.md rule 2; allauth's ``Authenticator.wrap()``,
Kratos's login strategies). Each row is a :class:`~twofold.factors.attempts.Challenge`: what it
delivers to the member first (a texted code), what the browser needs (a security key's request
options), how an answer is checked, and what the session records for assurance
(``sessions/assurance.py``).
"""

from __future__ import annotations

from django.utils.translation import gettext

from twofold.errors import FlowError
from twofold.factors.attempts import Challenge
from twofold.factors.backup_codes.challenge import BackupCodeChallenge
from twofold.factors.methods import BACKUP_CODE, SMS, TOTP, WEBAUTHN
from twofold.factors.sms.challenge import SmsChallenge
from twofold.factors.totp.challenge import TotpChallenge
from twofold.factors.webauthn.challenge import KeyChallenge

# Every way of passing the second factor, by its name in ``factors/methods.py``.
TABLE: dict[str, Challenge] = {
    WEBAUTHN: KeyChallenge(),
    TOTP: TotpChallenge(),
    SMS: SmsChallenge(),
    BACKUP_CODE: BackupCodeChallenge(),
}


def challenge(method: str) -> Challenge:
    found = TABLE.get(method)
    if found is None:
        raise FlowError(gettext("There is no such method."), code="invalid_choice", param="method")
    return found
