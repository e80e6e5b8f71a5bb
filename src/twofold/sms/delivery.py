"""Send one text: allow-list, then a reservation within the limits, then each gateway in turn.

Guarantees of :func:`send_sms`:
- nothing is sent to a country outside ``TWOFOLD_SMS_COUNTRIES`` or past a daily limit, even for
  a number enrolled before the operator narrowed them (SMS pumping is paid per text), nor
  within a member's resend cooldown, even by simultaneous requests on several instances: the
  text's place is reserved first (:mod:`twofold.sms.reservation`) and given back when no
  gateway took it;
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
from django.utils.translation import gettext_lazy

from twofold import clock, metrics
from twofold.audit.events import Event
from twofold.audit.record import record_surviving_rollback
from twofold.errors import Unavailable
from twofold.sms import gateways, reservation
from twofold.sms.gateway import InvalidRecipient, SmsError, SmsGateway
from twofold.sms.limits import Cooldown
from twofold.sms.models import SmsDelivery
from twofold.sms.numbers import InvalidPhoneNumber, require_allowed_country

if TYPE_CHECKING:
    from twofold.organizations.models import Organization
    from twofold.users.models import User

logger = logging.getLogger("twofold.sms")

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Any run of 7+ digits in an error text might be a phone number: never store one.
DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]{5,}\d")
CANNOT_RECEIVE = gettext_lazy(
    "This number cannot receive text messages. Enter a mobile number that can."
)
UNAVAILABLE = gettext_lazy(
    "We could not send the text message right now. Please try again in a minute."
)


def send_sms(
    to: str,
    body: str,
    *,
    purpose: str,
    user: User | None = None,
    organization: Organization | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    cooldown: Cooldown | None = None,
) -> SmsDelivery:
    """Text ``body`` to ``to`` (E.164); return the row of the gateway that accepted it.

    The text's place in the limits (and, with ``cooldown``, in the member's cooldown for
    ``purpose``) is reserved before any gateway is asked, and given back when none took it.
    Raises :class:`TooManyRequests` (``sms_resend_cooldown``, ``sms_limit``),
    :class:`InvalidPhoneNumber` (``phone_invalid`` for a country not allowed,
    ``phone_cannot_receive_sms``) or :class:`Unavailable` (``sms_unavailable``) when no gateway
    took the text.
    """
    if not E164.match(to):
        raise ValueError("send_sms() needs a number in E.164 form; use numbers.parse_mobile()")
    now = now or clock.now()
    require_allowed_country(to)
    reserved = reservation.reserve(
        to, purpose=purpose, user=user, organization=organization, ip=ip, now=now, cooldown=cooldown
    )
    return _hand_over(reserved, to, body)


def _hand_over(reserved: SmsDelivery, to: str, body: str) -> SmsDelivery:
    """Each gateway in turn until one takes the text (failover); raise why none did, with the
    text's reservation given back."""
    purpose = reserved.purpose
    try:
        tried: SmsGateway | None = None  # the gateway that failed before this one
        for gateway in configured_gateways():
            if tried is not None:
                metrics.sms_failover(tried.name)
            tried = None
            try:
                message_id = gateway.send(to, body)
            except InvalidRecipient as error:
                reserved = _failed(reserved, gateway, error, outcome="invalid_recipient")
                metrics.sms_text(purpose, "cannot_receive")
                raise InvalidPhoneNumber(CANNOT_RECEIVE, code="phone_cannot_receive_sms") from None
            except SmsError as error:
                reserved = _failed(reserved, gateway, error)
                if not error.retryable:
                    break
                tried = gateway
            except Exception as error:  # timeouts, connection errors, an SDK's surprise: next one
                reserved = _failed(
                    reserved, gateway, error, unexpected=not isinstance(error, OSError)
                )
                tried = gateway
            else:
                logger.info(
                    "SMS via %s to %s accepted (%s)",
                    gateway.name,
                    reserved.to_masked,
                    reserved.purpose,
                )
                metrics.sms_attempt(gateway.name, "sent")
                metrics.sms_text(purpose, "sent")
                return reservation.confirm(reserved, gateway=gateway.name, message_id=message_id)
        metrics.sms_text(purpose, "unavailable")
        raise Unavailable(UNAVAILABLE, code="sms_unavailable")
    except BaseException:
        reservation.release(reserved)  # no gateway took it: it costs nothing, blocks nothing
        raise


def _failed(
    reserved: SmsDelivery,
    gateway: SmsGateway,
    error: Exception,
    *,
    unexpected: bool = False,
    outcome: str = "failed",
) -> SmsDelivery:
    """Record the failed attempt (its row, the log, the audit, the metric); return the text's
    reservation."""
    metrics.sms_attempt(gateway.name, outcome)
    text = str(error) if isinstance(error, SmsError) else f"{gateway.name}: {type(error).__name__}"
    text = DIGIT_RUN.sub("[number]", text)[:200]
    logger.warning(
        "SMS via %s to %s failed: %s", gateway.name, reserved.to_masked, text, exc_info=unexpected
    )
    # The caller's transaction may roll back with the failure; the audit event must not.
    record_surviving_rollback(
        Event.SMS_SEND_FAILED,
        subject=reserved.user,
        organization=reserved.organization,
        detail={
            "gateway": gateway.name,
            "error": text,
            "masked_phone": reserved.to_masked,
            "purpose": reserved.purpose,
        },
    )
    return reservation.failed(reserved, gateway=gateway.name, error=text)


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
