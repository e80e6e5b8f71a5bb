"""Send one text: allow-list and daily limits first, then each configured gateway in turn.

Guarantees of :func:`send_sms`:
- nothing is sent to a country outside ``TWOFOLD_SMS_COUNTRIES`` or past a daily limit, even for
  a number enrolled before the operator narrowed them (SMS pumping is paid per text);
- failover: a gateway that fails in a way another may not (outage, timeout, connection refused,
  its credentials, a bug in its SDK) is recorded and the next one is tried; a number the
  provider calls invalid stops at once, as no other provider will reach it;
- every attempt leaves one :class:`SmsDelivery` row, without the full number or provider texts;
- every failed attempt is audited (``sms.send_failed``), even when the caller rolls back;
- the text itself (it holds a code) is never logged by this module.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record_surviving_rollback
from twofold.errors import Unavailable
from twofold.sms import gateways
from twofold.sms.gateway import InvalidRecipient, SmsError, SmsGateway
from twofold.sms.limits import check_send_allowed
from twofold.sms.models import DeliveryStatus, SmsDelivery, number_hash
from twofold.sms.numbers import InvalidPhoneNumber, mask, require_allowed_country

if TYPE_CHECKING:
    from twofold.organizations.models import Organization
    from twofold.users.models import User

logger = logging.getLogger("twofold.sms")

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Any run of 7+ digits in an error text might be a phone number: never store one.
DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]{5,}\d")
CANNOT_RECEIVE = "This number cannot receive text messages. Enter a mobile number that can."
UNAVAILABLE = "We could not send the text message right now. Please try again in a minute."


def send_sms(
    to: str,
    body: str,
    *,
    purpose: str,
    user: User | None = None,
    organization: Organization | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> SmsDelivery:
    """Text ``body`` to ``to`` (E.164); return the row of the gateway that accepted it.

    Raises :class:`TooManyRequests` (``sms_limit``), :class:`InvalidPhoneNumber`
    (``phone_invalid`` for a country not allowed, ``phone_cannot_receive_sms``) or
    :class:`Unavailable` (``sms_unavailable``) when no gateway took the text.
    """
    if not E164.match(to):
        raise ValueError("send_sms() needs a number in E.164 form; use numbers.parse_mobile()")
    now = now or clock.now()
    require_allowed_country(to)
    check_send_allowed(to=to, user=user, organization=organization, ip=ip, now=now)
    row = {
        "created_at": now,
        "purpose": purpose,
        "user": user,
        "organization": organization,
        "ip": ip or None,
        "to_masked": mask(to),
        "to_hash": number_hash(to),
    }
    for gateway in configured_gateways():
        try:
            message_id = gateway.send(to, body)
        except InvalidRecipient as error:
            _failed(row, gateway, error)
            raise InvalidPhoneNumber(CANNOT_RECEIVE, code="phone_cannot_receive_sms") from None
        except SmsError as error:
            _failed(row, gateway, error)
            if not error.retryable:
                break
        except Exception as error:  # timeouts, connection errors, an SDK's surprise: next one
            _failed(row, gateway, error, unexpected=not isinstance(error, OSError))
        else:
            logger.info("SMS via %s to %s accepted (%s)", gateway.name, row["to_masked"], purpose)
            return SmsDelivery.objects.create(
                **row,
                gateway=gateway.name,
                status=DeliveryStatus.SENT,
                provider_message_id=message_id[:128],
            )
    raise Unavailable(UNAVAILABLE, code="sms_unavailable")


def _failed(
    row: dict[str, Any], gateway: SmsGateway, error: Exception, *, unexpected: bool = False
) -> None:
    text = str(error) if isinstance(error, SmsError) else f"{gateway.name}: {type(error).__name__}"
    text = DIGIT_RUN.sub("[number]", text)[:200]
    logger.warning(
        "SMS via %s to %s failed: %s", gateway.name, row["to_masked"], text, exc_info=unexpected
    )
    SmsDelivery.objects.create(
        **row, gateway=gateway.name, status=DeliveryStatus.FAILED, error=text
    )
    # The caller's transaction may roll back with the failure; the audit event must not.
    record_surviving_rollback(
        Event.SMS_SEND_FAILED,
        subject=row["user"],
        organization=row["organization"],
        detail={
            "gateway": gateway.name,
            "error": text,
            "masked_phone": row["to_masked"],
            "purpose": row["purpose"],
        },
    )


def configured_gateways() -> list[SmsGateway]:
    """The gateways of ``TWOFOLD_SMS_GATEWAYS``, in failover order, built once per process."""
    return list(_built())


@functools.cache
def _built() -> tuple[SmsGateway, ...]:
    sms = settings.TWOFOLD.sms
    return tuple(gateways.build(name, sms) for name in sms.gateways)


@receiver(setting_changed)
def _forget_gateways(*, setting: str, **kwargs: Any) -> None:
    if setting == "TWOFOLD":
        _built.cache_clear()
