"""Twilio, through its own SDK (``twilio``), Programmable Messaging ``Messages.create``.

Error mapping (https://www.twilio.com/docs/api/errors): the numbers Twilio says are invalid or
not mobile raise :class:`InvalidRecipient`; everything else is this provider's problem and
retryable at the next gateway: outages (5xx), timeouts, wrong credentials (401, 20003), the
account's geographic permissions (21408) or a recipient who opted out of this sender (21610).
Provider messages are not passed on: they quote the full number.
"""

from __future__ import annotations

from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from twofold.config.secret import Secret
from twofold.config.sms import SmsSettings
from twofold.sms.gateway import InvalidRecipient, SmsError

INVALID_RECIPIENT = {
    21211: "invalid 'To' number",
    21217: "the number does not appear to be valid",
    21614: "'To' is not a mobile number",
}


class TwilioGateway:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: Secret,
        from_: str = "",
        messaging_service_sid: str = "",
        base_url: str = "",
        timeout: float = 10.0,
    ) -> None:
        self.sender: dict[str, Any] = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_}
        )
        self.timeout = timeout
        self.client = Client(
            account_sid,
            str(auth_token),
            http_client=TwilioHttpClient(timeout=timeout),
            # Only Twofold's settings apply: TWILIO_EDGE/TWILIO_REGION would rewrite the host.
            environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
        )
        if base_url:
            self.client.api.base_url = base_url

    def send(self, to: str, body: str) -> str:
        try:
            message = self.client.messages.create(to=to, body=body, **self.sender)
        except requests.Timeout:
            waited = f"twilio: no answer within {self.timeout:g} s"
            raise SmsError(waited, retryable=True) from None
        except requests.RequestException as error:
            raise SmsError(f"twilio: {type(error).__name__}", retryable=True) from None
        except TwilioException as error:
            raise _refusal(error) from None
        return str(message.sid)

    def close(self) -> None:
        session = getattr(self.client.http_client, "session", None)
        if session is not None:
            session.close()


def _refusal(error: TwilioException) -> SmsError:
    status, code = getattr(error, "status", None), getattr(error, "code", None)
    if code in INVALID_RECIPIENT:
        return InvalidRecipient(f"twilio {code}: {INVALID_RECIPIENT[code]}")
    return SmsError(f"twilio: HTTP {status}, error {code}", retryable=True)


def from_settings(sms: SmsSettings) -> TwilioGateway:
    if sms.twilio is None:
        raise ValueError("the twilio gateway is not configured")
    return TwilioGateway(
        account_sid=sms.twilio.account_sid,
        auth_token=sms.twilio.auth_token,
        from_=sms.twilio.from_,
        messaging_service_sid=sms.twilio.messaging_service_sid,
        base_url=sms.twilio.base_url,
        timeout=sms.timeout,
    )
