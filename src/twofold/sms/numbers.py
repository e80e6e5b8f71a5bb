"""Phone numbers: parsed to E.164, refused unless they can receive texts, masked for display.

Guarantees of :func:`parse_mobile`: the result is a valid E.164 number (libphonenumber's
metadata), of a type that receives SMS (``MOBILE``, or ``FIXED_LINE_OR_MOBILE`` where a country's
plan cannot tell them apart, as in the US), in a country of the operator's allow-list
(``TWOFOLD_SMS_COUNTRIES``; DESIGN.md "Sending limits": refuse numbers that are not mobile,
country allow-list: the usual SMS-pumping fraud texts premium or far-away ranges).
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType, geocoder

from twofold.errors import FlowError, StrOrPromise

RECEIVES_SMS = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
KIND_WORDS = {
    PhoneNumberType.FIXED_LINE: "a landline number",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOIP: "an internet telephone (VoIP) number",
    PhoneNumberType.PAGER: "a pager number",
}
MAX_INPUT = 40  # long enough for "+41 (0)79 123 45 67" with spaces; refuse essays early


class InvalidPhoneNumber(FlowError):
    """The number cannot be used for text messages; ``message`` says why and what to enter."""

    code = "phone_invalid"

    def __init__(self, message: StrOrPromise, *, code: str | None = None) -> None:
        super().__init__(message, code=code, param="phone")


def parse_mobile(raw: str, default_country: str) -> str:
    """``raw`` as typed by a person (national form read in ``default_country``) -> E.164."""
    number = _parse(raw, default_country)
    _require_allowed_country(number)
    kind = phonenumbers.number_type(number)
    if kind not in RECEIVES_SMS:
        what = KIND_WORDS.get(kind, "not a mobile number")
        raise InvalidPhoneNumber(
            f"This is {what}: it cannot receive text messages. Enter a mobile number."
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def require_allowed_country(e164: str) -> None:
    """Refuse a stored number whose country the operator no longer allows (checked at send)."""
    _require_allowed_country(phonenumbers.parse(e164, None))


def mask(e164: str) -> str:
    """``+41 •• ••• •• 67``: country code and last two digits, the grouping of the rest."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "••••••" + e164[-2:]
    shown = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    code = f"+{number.country_code}"
    hidden = "".join("•" if c.isdigit() else c for c in shown[len(code) : -2])
    return code + hidden + shown[-2:]


def formatted(e164: str) -> str:
    """International format for showing a member their own number: ``+41 79 123 45 67``."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def _parse(raw: str, default_country: str) -> PhoneNumber:
    example = _example(default_country)
    if len(raw) > MAX_INPUT:
        raise InvalidPhoneNumber(
            gettext("This is too long for a phone number. Enter one like %(example)s.")
            % {"example": example}
        )
    try:
        number = phonenumbers.parse(raw, (default_country or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(
            gettext("This does not look like a phone number. Enter one like %(example)s.")
            % {"example": example}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            gettext(
                "This number is not valid: check the digits and the country. "
                "Enter one like %(example)s."
            )
            % {"example": example}
        )
    return number


def _require_allowed_country(number: PhoneNumber) -> None:
    allowed = settings.TWOFOLD.sms.countries
    region = phonenumbers.region_code_for_number(number)
    if allowed and region not in allowed:
        language = translation.get_language() or "en"
        country = geocoder.country_name_for_number(number, language) or f"+{number.country_code}"
        raise InvalidPhoneNumber(
            gettext(
                "Text messages to numbers in %(country)s are not available here. "
                "Enter a number from another country."
            )
            % {"country": country}
        )


def _example(country: str) -> str:
    number = phonenumbers.example_number_for_type((country or "").upper(), PhoneNumberType.MOBILE)
    if number is None:
        return "+41 79 123 45 67"
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
