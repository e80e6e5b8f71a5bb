"""AWS SNS, through boto3: ``Publish`` to a phone number as a *Transactional* text.

Transactional, because sign-in codes must get the reliable route, not the cheap one (AWS:
"SMSType"). The SDK's own retries are off (one attempt, ``SMS_TIMEOUT`` for connect and read):
the next gateway is a better retry than the same one.

SNS accepts a text for a number that opted out of this AWS account's texts and then drops it, so
the opt-out list is asked first (``CheckIfPhoneNumberIsOptedOut``); an opted-out number is
retryable: another provider's sender may still reach it. If that check is not allowed (IAM), the
text is published anyway. An ``InvalidParameter`` on the phone number is
:class:`InvalidRecipient`; every other error is this provider's problem and retryable.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from twofold.config.secret import Secret
from twofold.config.sms import SmsSettings
from twofold.sms.gateway import InvalidRecipient, SmsError

logger = logging.getLogger("twofold.sms")


class SnsGateway:
    name = "sns"

    def __init__(
        self,
        *,
        region: str,
        access_key_id: str = "",
        secret_access_key: Secret | None = None,
        endpoint_url: str = "",
        sender_id: str = "",
        timeout: float = 10.0,
    ) -> None:
        session = boto3.session.Session(
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=str(secret_access_key) if secret_access_key else None,
            region_name=region,
        )
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        self.client = session.client("sns", endpoint_url=endpoint_url or None, config=config)
        self.attributes: dict[str, Any] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        }
        if sender_id:
            sender = {"DataType": "String", "StringValue": sender_id}
            self.attributes["AWS.SNS.SMS.SenderID"] = sender

    def send(self, to: str, body: str) -> str:
        try:
            if self._opted_out(to):
                raise SmsError("sns: the number opted out of this account's texts", retryable=True)
            response = self.client.publish(
                PhoneNumber=to, Message=body, MessageAttributes=self.attributes
            )
        except ClientError as error:
            raise _refusal(error) from None
        except BotoCoreError as error:  # connection refused, timeouts, credentials not found
            raise SmsError(f"sns: {type(error).__name__}", retryable=True) from None
        return str(response["MessageId"])

    def _opted_out(self, to: str) -> bool:
        try:
            answer = self.client.check_if_phone_number_is_opted_out(phoneNumber=to)
        except ClientError as error:
            logger.info("SNS opt-out check not possible (%s); publishing", _code(error))
            return False
        return bool(answer.get("isOptedOut"))

    def close(self) -> None:
        self.client.close()


def _refusal(error: ClientError) -> SmsError:
    code = _code(error)
    message = str(error.response.get("Error", {}).get("Message", ""))
    if code == "InvalidParameter" and "phone" in message.lower():
        return InvalidRecipient("sns: InvalidParameter on the phone number")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return SmsError(f"sns: HTTP {status}, {code}", retryable=True)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "unknown"))


def from_settings(sms: SmsSettings) -> SnsGateway:
    if sms.sns is None:
        raise ValueError("the sns gateway is not configured")
    return SnsGateway(
        region=sms.sns.region,
        access_key_id=sms.sns.access_key_id,
        secret_access_key=sms.sns.secret_access_key,
        endpoint_url=sms.sns.endpoint_url,
        sender_id=sms.sns.sender_id,
        timeout=sms.timeout,
    )
