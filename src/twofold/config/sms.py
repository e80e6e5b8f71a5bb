"""SMS settings: which gateways send texts and in which order, where texts may go, how many a day.

Read by :mod:`twofold.config.env` from ``TWOFOLD_SMS_*``, ``TWOFOLD_TWILIO_*`` and
``TWOFOLD_SNS_*``. A gateway that is named but cannot work (no credentials, no URL) is refused
at start-up, not at the first sign-in that needs a text (STYLE.md rule 9). Credentials are
:class:`Secret`.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import phonenumbers

from twofold.config.secret import Secret

PREFIX = "TWOFOLD_"
GATEWAY_NAMES = ("outbox", "console", "twilio", "sns", "webhook")
DEFAULT_WEBHOOK_BODY = '{"to": "{to}", "body": "{body}"}'
# AWS: 1-11 letters, digits or hyphens, at least one letter.
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$")

VARIABLES: dict[str, str] = {
    "SMS_GATEWAYS": "comma-separated SMS gateways, tried in this order (failover): "
    "`outbox` (default), `console`, `twilio`, `sns`, `webhook`",
    "SMS_OUTBOX": "file the `outbox` gateway appends texts to (JSON lines); "
    "default `<data dir>/sms-outbox.jsonl`",
    "SMS_TIMEOUT": "seconds to wait for an SMS provider before trying the next; default 10",
    "SMS_COUNTRIES": "comma-separated ISO 3166 country codes texts may go to, e.g. `CH,DE`; "
    "default all",
    "SMS_LIMIT_PER_NUMBER": "texts to one phone number per 24 h; default 10",
    "SMS_LIMIT_PER_USER": "texts for one member per 24 h; default 20",
    "SMS_LIMIT_PER_IP": "texts asked for from one IP address per 24 h; default 50",
    "SMS_LIMIT_PER_ORGANIZATION": "texts for one account per 24 h; default 1000",
    "TWILIO_ACCOUNT_SID": "Twilio account SID (`AC...`), for the `twilio` gateway",
    "TWILIO_AUTH_TOKEN": "Twilio auth token",
    "TWILIO_FROM": "Twilio sender: a number in E.164 form or an alphanumeric sender ID",
    "TWILIO_MESSAGING_SERVICE_SID": "Twilio Messaging Service SID (`MG...`), instead of "
    "`TWILIO_FROM`",
    "TWILIO_BASE_URL": "Twilio API base URL; default `https://api.twilio.com`",
    "SNS_REGION": "AWS region of the `sns` gateway, e.g. `eu-west-1`",
    "SNS_ACCESS_KEY_ID": "AWS access key id; default: boto3's own credential chain",
    "SNS_SECRET_ACCESS_KEY": "AWS secret access key (with `SNS_ACCESS_KEY_ID`)",
    "SNS_ENDPOINT_URL": "SNS endpoint URL instead of AWS's public one (e.g. a VPC endpoint)",
    "SNS_SENDER_ID": "alphanumeric sender ID (1-11 characters) where the country allows one",
    "SMS_WEBHOOK_URL": "http(s) URL the `webhook` gateway POSTs each text to",
    "SMS_WEBHOOK_BODY": 'JSON body; `"{to}"` and `"{body}"` in its strings are replaced; '
    f"default `{DEFAULT_WEBHOOK_BODY}`",
    "SMS_WEBHOOK_BEARER_TOKEN": "sent to the webhook as `Authorization: Bearer ...`",
    "SMS_WEBHOOK_BASIC_AUTH": "`user:password` for HTTP Basic authentication at the webhook",
}

# Each may come from the file TWOFOLD_<NAME>_FILE names instead (config/env.py, SECRET_VARIABLES).
SECRETS = (
    "TWILIO_ACCOUNT_SID",  # not secret alone, but given beside its token
    "TWILIO_AUTH_TOKEN",
    "SNS_ACCESS_KEY_ID",
    "SNS_SECRET_ACCESS_KEY",
    "SMS_WEBHOOK_BEARER_TOKEN",
    "SMS_WEBHOOK_BASIC_AUTH",
)


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: Secret
    from_: str
    messaging_service_sid: str
    base_url: str


@dataclass(frozen=True)
class SnsSettings:
    region: str
    access_key_id: str
    secret_access_key: Secret | None
    endpoint_url: str
    sender_id: str


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    body_template: Any  # parsed JSON
    bearer_token: Secret | None
    basic_auth: tuple[str, Secret] | None


@dataclass(frozen=True)
class SmsSettings:
    gateways: tuple[str, ...]
    outbox: Path
    timeout: float
    countries: frozenset[str]  # empty: every country
    limit_per_number: int
    limit_per_user: int
    limit_per_ip: int
    limit_per_organization: int
    twilio: TwilioSettings | None = None
    sns: SnsSettings | None = None
    webhook: WebhookSettings | None = None
    # TWOFOLD_SMS_GATEWAYS was set: the operator chose these gateways (the outbox too, then).
    gateways_chosen: bool = False


# HTTP calls per text at each gateway (SNS: the opt-out check, then the publish); each may wait
# TWOFOLD_SMS_TIMEOUT to connect and as long again for the answer (requests', botocore's rule).
CALLS_PER_TEXT = {"outbox": 0, "console": 0, "twilio": 1, "sns": 2, "webhook": 1}


def longest_failover(sms: SmsSettings) -> float:
    """Seconds one text may wait at most when every gateway times out in turn (failover).

    A stopping worker must be given at least this long, or a text could be cut off mid-send.
    The bound counts each call's connect and answer timeouts once."""
    return sum(CALLS_PER_TEXT.get(name, 0) * 2 * sms.timeout for name in sms.gateways)


class Reader(Protocol):
    problems: list[str]

    @property
    def env(self) -> Mapping[str, str]: ...

    def integer(
        self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int: ...


def read(reader: Reader, data_dir: Path, *, production: bool) -> SmsSettings:
    gateways = _gateways(reader)
    urls = _Urls(reader, production)
    outbox = reader.env.get("SMS_OUTBOX")
    return SmsSettings(
        gateways=gateways,
        outbox=Path(outbox).resolve() if outbox else data_dir / "sms-outbox.jsonl",
        timeout=_timeout(reader),
        countries=_countries(reader),
        limit_per_number=reader.integer("SMS_LIMIT_PER_NUMBER", 10, minimum=1),
        limit_per_user=reader.integer("SMS_LIMIT_PER_USER", 20, minimum=1),
        limit_per_ip=reader.integer("SMS_LIMIT_PER_IP", 50, minimum=1),
        limit_per_organization=reader.integer("SMS_LIMIT_PER_ORGANIZATION", 1000, minimum=1),
        twilio=_twilio(reader, urls) if "twilio" in gateways else None,
        sns=_sns(reader, urls) if "sns" in gateways else None,
        webhook=_webhook(reader, urls) if "webhook" in gateways else None,
        gateways_chosen=bool(reader.env.get("SMS_GATEWAYS", "").strip()),
    )


def _gateways(reader: Reader) -> tuple[str, ...]:
    raw = reader.env.get("SMS_GATEWAYS") or "outbox"
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    if not names:
        reader.problems.append(f"{PREFIX}SMS_GATEWAYS must name at least one gateway")
    for name in names:
        if name not in GATEWAY_NAMES:
            guess = difflib.get_close_matches(name, GATEWAY_NAMES, n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            reader.problems.append(
                f"{PREFIX}SMS_GATEWAYS: {name!r} is not an SMS gateway{hint}; "
                f"choose from: {', '.join(GATEWAY_NAMES)}"
            )
    for name in sorted({n for n in names if names.count(n) > 1}):
        reader.problems.append(f"{PREFIX}SMS_GATEWAYS lists {name} more than once")
    return tuple(dict.fromkeys(names)) or ("outbox",)


def _timeout(reader: Reader) -> float:
    raw = reader.env.get("SMS_TIMEOUT") or "10"
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 60:
        reader.problems.append(
            f"{PREFIX}SMS_TIMEOUT={raw!r} must be a number of seconds above 0 and at most 60"
        )
        return 10.0
    return value


def _countries(reader: Reader) -> frozenset[str]:
    codes = [c.strip().upper() for c in reader.env.get("SMS_COUNTRIES", "").split(",")]
    for code in codes:
        if code and code not in phonenumbers.SUPPORTED_REGIONS:
            reader.problems.append(
                f"{PREFIX}SMS_COUNTRIES: {code!r} is not an ISO 3166 alpha-2 country code "
                "with phone numbers (e.g. CH, DE, US)"
            )
    return frozenset(c for c in codes if c in phonenumbers.SUPPORTED_REGIONS)


def _twilio(reader: Reader, urls: _Urls) -> TwilioSettings:
    env = reader.env
    sid, token = env.get("TWILIO_ACCOUNT_SID", ""), env.get("TWILIO_AUTH_TOKEN", "")
    sender, service = env.get("TWILIO_FROM", ""), env.get("TWILIO_MESSAGING_SERVICE_SID", "")
    if not (sid and token):
        reader.problems.append(
            f"{PREFIX}SMS_GATEWAYS=twilio needs {PREFIX}TWILIO_ACCOUNT_SID and "
            f"{PREFIX}TWILIO_AUTH_TOKEN"
        )
    if not (sender or service):
        reader.problems.append(
            f"{PREFIX}SMS_GATEWAYS=twilio needs {PREFIX}TWILIO_FROM (a sender number such as "
            f"+15005550006) or {PREFIX}TWILIO_MESSAGING_SERVICE_SID"
        )
    elif sender and service:
        reader.problems.append(
            f"set {PREFIX}TWILIO_FROM or {PREFIX}TWILIO_MESSAGING_SERVICE_SID, not both"
        )
    base_url = urls.check("TWILIO_BASE_URL").rstrip("/") if env.get("TWILIO_BASE_URL") else ""
    return TwilioSettings(sid, Secret(token), sender, service, base_url)


def _sns(reader: Reader, urls: _Urls) -> SnsSettings:
    env = reader.env
    region, key_id = env.get("SNS_REGION", ""), env.get("SNS_ACCESS_KEY_ID", "")
    secret, sender_id = env.get("SNS_SECRET_ACCESS_KEY", ""), env.get("SNS_SENDER_ID", "")
    if not region:
        reader.problems.append(
            f"{PREFIX}SMS_GATEWAYS=sns needs {PREFIX}SNS_REGION (an AWS region that sends SMS, "
            "e.g. eu-west-1)"
        )
    if bool(key_id) != bool(secret):
        reader.problems.append(
            f"set both {PREFIX}SNS_ACCESS_KEY_ID and {PREFIX}SNS_SECRET_ACCESS_KEY, or neither "
            "(boto3's own credential chain)"
        )
    if sender_id and not _SENDER_ID.match(sender_id):
        reader.problems.append(
            f"{PREFIX}SNS_SENDER_ID={sender_id!r} must be 1 to 11 letters, digits or hyphens, "
            "with at least one letter"
        )
    endpoint = urls.check("SNS_ENDPOINT_URL") if env.get("SNS_ENDPOINT_URL") else ""
    return SnsSettings(region, key_id, Secret(secret) if secret else None, endpoint, sender_id)


def _webhook(reader: Reader, urls: _Urls) -> WebhookSettings:
    env = reader.env
    if not env.get("SMS_WEBHOOK_URL"):
        reader.problems.append(f"{PREFIX}SMS_GATEWAYS=webhook needs {PREFIX}SMS_WEBHOOK_URL")
    url = urls.check("SMS_WEBHOOK_URL") if env.get("SMS_WEBHOOK_URL") else ""
    bearer, basic = env.get("SMS_WEBHOOK_BEARER_TOKEN", ""), env.get("SMS_WEBHOOK_BASIC_AUTH", "")
    if bearer and basic:
        reader.problems.append(
            f"set {PREFIX}SMS_WEBHOOK_BEARER_TOKEN or {PREFIX}SMS_WEBHOOK_BASIC_AUTH, not both"
        )
    if basic and ":" not in basic:
        reader.problems.append(f"{PREFIX}SMS_WEBHOOK_BASIC_AUTH must be user:password")
    user, _, password = basic.partition(":")
    return WebhookSettings(
        url=url,
        body_template=_body_template(reader),
        bearer_token=Secret(bearer) if bearer else None,
        basic_auth=(user, Secret(password)) if basic else None,
    )


def _body_template(reader: Reader) -> Any:
    raw = reader.env.get("SMS_WEBHOOK_BODY") or DEFAULT_WEBHOOK_BODY
    try:
        template = json.loads(raw)
    except ValueError:
        reader.problems.append(
            f"{PREFIX}SMS_WEBHOOK_BODY must be JSON, e.g. {DEFAULT_WEBHOOK_BODY}"
        )
        return json.loads(DEFAULT_WEBHOOK_BODY)
    strings = _strings(template)
    if not any("{to}" in s for s in strings) or not any("{body}" in s for s in strings):
        reader.problems.append(
            f'{PREFIX}SMS_WEBHOOK_BODY must contain "{{to}}" and "{{body}}" in its string values'
        )
    return template


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


class _Urls:
    """Provider URLs: http(s) only; plain http in production only to this machine."""

    def __init__(self, reader: Reader, production: bool) -> None:
        self.reader = reader
        self.production = production

    def check(self, name: str) -> str:
        url = self.reader.env[name]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.reader.problems.append(f"{PREFIX}{name} must be an http:// or https:// URL")
        # Codes and credentials would cross the network in clear text.
        elif self.production and parts.scheme == "http" and not _is_loopback(parts.hostname):
            self.reader.problems.append(
                f"{PREFIX}{name} must be https:// in production (http only to this machine)"
            )
        return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
