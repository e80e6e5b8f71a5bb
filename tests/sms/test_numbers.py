"""Phone numbers: E.164, mobile only, the country allow-list, masking and display."""

from __future__ import annotations

import phonenumbers
import pytest

from twofold.errors import FlowError
from twofold.sms.numbers import InvalidPhoneNumber, formatted, mask, parse_mobile


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("079 123 45 67", "CH", "+41791234567"),
        ("0791234567", "ch", "+41791234567"),
        ("+41 (0)79 123 45 67", "DE", "+41791234567"),
        ("0041 79 123 45 67", "CH", "+41791234567"),
        ("01512 3456789", "DE", "+4915123456789"),
        ("(201) 555-0123", "US", "+12015550123"),  # US: fixed line or mobile, cannot tell
    ],
)
def test_numbers_are_read_in_the_default_country_and_returned_in_e164(raw, country, e164):
    assert parse_mobile(raw, country) == e164


def test_the_examples_are_what_phonenumbers_says_they_are():
    kind = phonenumbers.PhoneNumberType
    assert phonenumbers.number_type(phonenumbers.parse("044 668 18 00", "CH")) == kind.FIXED_LINE
    assert phonenumbers.number_type(phonenumbers.parse("079 123 45 67", "CH")) == kind.MOBILE


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("044 668 18 00", "This is a landline number: it cannot receive text messages."),
        ("0800 800 800", "This is a toll-free number: it cannot receive text messages."),
        ("0900 123 456", "This is a premium-rate number"),
    ],
)
def test_numbers_that_cannot_receive_texts_are_refused_saying_why(raw, says):
    with pytest.raises(InvalidPhoneNumber) as raised:
        parse_mobile(raw, "CH")
    assert says in raised.value.message
    assert "Enter a mobile number" in raised.value.message


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("call me", "This does not look like a phone number."),
        ("079 123", "This number is not valid"),
        ("+41 79 123 45 67 89", "This number is not valid"),
        ("0" * 41, "too long"),
    ],
)
def test_unreadable_and_invalid_numbers_are_refused_with_an_example(raw, says):
    with pytest.raises(InvalidPhoneNumber) as raised:
        parse_mobile(raw, "CH")
    assert says in raised.value.message
    assert "Enter one like +41 " in raised.value.message


def test_the_refusal_is_a_flow_error_on_the_phone_field():
    with pytest.raises(FlowError) as raised:
        parse_mobile("nope", "CH")
    assert (raised.value.code, raised.value.param, raised.value.status) == (
        "phone_invalid",
        "phone",
        400,
    )


def test_countries_outside_the_allow_list_are_refused_by_name(sms_settings):
    sms_settings(countries=frozenset({"CH", "AT"}))
    assert parse_mobile("079 123 45 67", "CH") == "+41791234567"
    with pytest.raises(InvalidPhoneNumber) as raised:
        parse_mobile("+49 1512 3456789", "CH")
    assert "Text messages to numbers in Germany are not available here" in raised.value.message


def test_an_empty_allow_list_allows_every_country(sms_settings):
    sms_settings(countries=frozenset())
    assert parse_mobile("+49 1512 3456789", "CH") == "+4915123456789"


@pytest.mark.parametrize(
    ("e164", "masked", "shown"),
    [
        ("+41791234567", "+41 •• ••• •• 67", "+41 79 123 45 67"),
        ("+4915123456789", "+49 •••• •••••89", "+49 1512 3456789"),
        ("+12015550123", "+1 •••-•••-••23", "+1 201-555-0123"),
    ],
)
def test_masking_keeps_the_country_code_and_last_two_digits(e164, masked, shown):
    assert mask(e164) == masked
    assert formatted(e164) == shown
