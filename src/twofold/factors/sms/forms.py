"""One validator per input of SMS enrollment, shared by the settings pages and the JSON API.

The forms only shape what was typed; whether a number is acceptable (valid, mobile, allowed
country) and whether a code is right are the flows' rules (``twofold.sms.numbers.parse_mobile``,
``factors.sms.flows``), so pages and API refuse for the same reasons with the same messages.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import babel
import phonenumbers
from django import forms
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from twofold.sms.numbers import MAX_INPUT

# ISO 3166 code and English name of every region phonenumbers knows (its SUPPORTED_REGIONS).
# Built in: phonenumbers' own display names are private API and not all present.
_REGION_NAMES = (
    "AC Ascension Island|AD Andorra|AE United Arab Emirates|AF Afghanistan|AG Antigua and Barbuda|"
    "AI Anguilla|AL Albania|AM Armenia|AO Angola|AR Argentina|AS American Samoa|AT Austria|"
    "AU Australia|AW Aruba|AX Åland Islands|AZ Azerbaijan|BA Bosnia and Herzegovina|BB Barbados|"
    "BD Bangladesh|BE Belgium|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi|BJ Benin|"
    "BL Saint Barthélemy|BM Bermuda|BN Brunei|BO Bolivia|BQ Caribbean Netherlands|BR Brazil|"
    "BS Bahamas|BT Bhutan|BW Botswana|BY Belarus|BZ Belize|CA Canada|CC Cocos (Keeling) Islands|"
    "CD Congo (Democratic Republic)|CF Central African Republic|CG Congo (Republic)|CH Switzerland|"
    "CI Côte d'Ivoire|CK Cook Islands|CL Chile|CM Cameroon|CN China|CO Colombia|CR Costa Rica|"
    "CU Cuba|CV Cape Verde|CW Curaçao|CX Christmas Island|CY Cyprus|CZ Czechia|DE Germany|"
    "DJ Djibouti|DK Denmark|DM Dominica|DO Dominican Republic|DZ Algeria|EC Ecuador|EE Estonia|"
    "EG Egypt|EH Western Sahara|ER Eritrea|ES Spain|ET Ethiopia|FI Finland|FJ Fiji|"
    "FK Falkland Islands|FM Micronesia|FO Faroe Islands|FR France|GA Gabon|GB United Kingdom|"
    "GD Grenada|GE Georgia|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar|GL Greenland|"
    "GM Gambia|GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece|GT Guatemala|GU Guam|"
    "GW Guinea-Bissau|GY Guyana|HK Hong Kong|HN Honduras|HR Croatia|HT Haiti|HU Hungary|"
    "ID Indonesia|IE Ireland|IL Israel|IM Isle of Man|IN India|IO British Indian Ocean Territory|"
    "IQ Iraq|IR Iran|IS Iceland|IT Italy|JE Jersey|JM Jamaica|JO Jordan|JP Japan|KE Kenya|"
    "KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros|KN Saint Kitts and Nevis|KP North Korea|"
    "KR South Korea|KW Kuwait|KY Cayman Islands|KZ Kazakhstan|LA Laos|LB Lebanon|LC Saint Lucia|"
    "LI Liechtenstein|LK Sri Lanka|LR Liberia|LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia|"
    "LY Libya|MA Morocco|MC Monaco|MD Moldova|ME Montenegro|MF Saint Martin|MG Madagascar|"
    "MH Marshall Islands|MK North Macedonia|ML Mali|MM Myanmar|MN Mongolia|MO Macao|"
    "MP Northern Mariana Islands|MQ Martinique|MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|"
    "MV Maldives|MW Malawi|MX Mexico|MY Malaysia|MZ Mozambique|NA Namibia|NC New Caledonia|"
    "NE Niger|NF Norfolk Island|NG Nigeria|NI Nicaragua|NL Netherlands|NO Norway|NP Nepal|"
    "NR Nauru|NU Niue|NZ New Zealand|OM Oman|PA Panama|PE Peru|PF French Polynesia|"
    "PG Papua New Guinea|PH Philippines|PK Pakistan|PL Poland|PM Saint Pierre and Miquelon|"
    "PR Puerto Rico|PS Palestine|PT Portugal|PW Palau|PY Paraguay|QA Qatar|RE Réunion|RO Romania|"
    "RS Serbia|RU Russia|RW Rwanda|SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|"
    "SE Sweden|SG Singapore|SH Saint Helena|SI Slovenia|SJ Svalbard and Jan Mayen|SK Slovakia|"
    "SL Sierra Leone|SM San Marino|SN Senegal|SO Somalia|SR Suriname|SS South Sudan|"
    "ST São Tomé and Príncipe|SV El Salvador|SX Sint Maarten|SY Syria|SZ Eswatini|"
    "TA Tristan da Cunha|TC Turks and Caicos Islands|TD Chad|TG Togo|TH Thailand|TJ Tajikistan|"
    "TK Tokelau|TL Timor-Leste|TM Turkmenistan|TN Tunisia|TO Tonga|TR Türkiye|"
    "TT Trinidad and Tobago|TV Tuvalu|TW Taiwan|TZ Tanzania|UA Ukraine|UG Uganda|US United States|"
    "UY Uruguay|UZ Uzbekistan|VA Vatican City|VC Saint Vincent and the Grenadines|VE Venezuela|"
    "VG British Virgin Islands|VI U.S. Virgin Islands|VN Vietnam|VU Vanuatu|WF Wallis and Futuna|"
    "WS Samoa|XK Kosovo|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe"
)


def _sort_key(name: str) -> str:
    # "Åland" next to "Albania", not after "Zimbabwe".
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def country_choices() -> list[tuple[str, str]]:
    """``("CH", "Switzerland (+41)")`` for every region phonenumbers supports, by name, in the
    active language: "Schweiz (+41)" on a German page."""
    return _country_choices(translation.get_language() or "en")


@functools.cache
def _country_choices(language: str) -> list[tuple[str, str]]:
    names = dict(entry.split(" ", 1) for entry in _REGION_NAMES.split("|"))
    if not language.startswith("en"):  # CLDR's names (Babel), the English ones where it has none
        names |= babel.Locale.parse(translation.to_locale(language)).territories
    choices = [
        (region, f"{names.get(region, region)} (+{phonenumbers.country_code_for_region(region)})")
        for region in phonenumbers.SUPPORTED_REGIONS
    ]
    return sorted(choices, key=lambda choice: _sort_key(choice[1]))


class PhoneForm(forms.Form):
    """A mobile number, in international form or national form of ``country``.

    ``cleaned_data["phone"]`` is what ``flows.start`` takes: the number in E.164 when it could be
    read with the chosen country, else as typed (the flow then says what is wrong with it).
    Without ``country`` (the API may omit it) the account's default country applies.
    """

    country = forms.ChoiceField(
        label=gettext_lazy("Country"), choices=country_choices, required=False
    )
    # No length or format rule here: ``parse_mobile`` is the one validator of the number.
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        help_text=gettext_lazy("The number of the phone that receives the text messages."),
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "autofocus": True}
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw, country = cleaned.get("phone"), cleaned.get("country")
        if raw and country:
            cleaned["phone"] = _international(raw, country)
        return cleaned


def _international(raw: str, country: str) -> str:
    if len(raw) > MAX_INPUT:
        return raw  # the flow refuses it with its own message
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return raw  # not a number at all: the flow's parser explains
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ConfirmCodeForm(forms.Form):
    """The 6-digit code of the text message (spaces allowed, as people copy them)."""

    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["code"] if ch.isdigit())
        if len(digits) != 6:
            raise forms.ValidationError(
                gettext("Enter the 6 digits of the code."), code="code_format"
            )
        return digits
