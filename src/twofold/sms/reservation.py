"""A text's place in the limits, taken before any gateway is asked (ASVS 2.4.1, 6.6.3).

Guarantees:
- :func:`reserve` checks the resend cooldown and the daily limits and writes the text's
  ``reserved`` row in one short transaction that holds a lock per limited scope it touches (the
  number, the member, the IP address, the account). Another send that shares a scope waits for
  that transaction and then counts its row, so simultaneous sends, in any number of threads,
  processes and instances on one database, never pass a limit or get more than the one text a
  cooldown allows;
- the reservation becomes the ``sent`` row of the gateway that takes the text (:func:`confirm`);
  each gateway that fails turns it into that attempt's ``failed`` row and passes the place on to
  a new reservation (:func:`failed`); when no gateway took the text, the last reservation is
  deleted (:func:`release`): a failed send costs no place in the limits and starts no cooldown;
- no lock is held while a gateway is asked (the transaction ends before), so a slow provider
  delays nobody else's reservation.

The locks: on PostgreSQL, transaction-level advisory locks (released at commit or rollback,
shared by every connection to the database, no table to grow); on SQLite, every transaction is
``IMMEDIATE`` (``config/sqlite.py``), so it holds the database's one write lock from BEGIN and
reservations run one after another. A process that dies between :func:`reserve` and
:func:`confirm` leaves its reservation: it counts as a text for 24 hours, so a limit is reached
early rather than passed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction

from twofold.sms import limits
from twofold.sms.limits import Cooldown
from twofold.sms.models import DeliveryStatus, SmsDelivery, number_hash
from twofold.sms.numbers import mask

if TYPE_CHECKING:
    from twofold.organizations.models import Organization
    from twofold.users.models import User


def reserve(
    to: str,
    *,
    purpose: str,
    user: User | None,
    organization: Organization | None,
    ip: str | None,
    now: datetime,
    cooldown: Cooldown | None = None,
) -> SmsDelivery:
    """The ``reserved`` row of one more text to ``to``, or :class:`TooManyRequests`
    (``sms_resend_cooldown`` while ``cooldown`` runs for ``user``, ``sms_limit`` past a daily
    limit). Nothing is written when it refuses."""
    with transaction.atomic():
        _lock(_scope_keys(to, user, organization, ip))
        limits.check_send_allowed(
            to=to,
            user=user,
            organization=organization,
            ip=ip,
            now=now,
            purpose=purpose,
            cooldown=cooldown,
        )
        return SmsDelivery.objects.create(
            created_at=now,
            purpose=purpose,
            user=user,
            organization=organization,
            ip=ip or None,
            to_masked=mask(to),
            to_hash=number_hash(to),
            status=DeliveryStatus.RESERVED,
        )


def confirm(reserved: SmsDelivery, *, gateway: str, message_id: str) -> SmsDelivery:
    """``gateway`` took the text: the reservation is its ``sent`` row (one UPDATE)."""
    reserved.status = DeliveryStatus.SENT
    reserved.gateway = gateway
    reserved.provider_message_id = message_id[:128]
    reserved.save(update_fields=["status", "gateway", "provider_message_id"])
    return reserved


def failed(reserved: SmsDelivery, *, gateway: str, error: str) -> SmsDelivery:
    """``gateway`` did not take the text: ``reserved`` becomes that attempt's ``failed`` row, and
    the text keeps its place in a new reservation, for the next gateway.

    The new one is written first, so the text is counted throughout (twice for a moment, never
    not at all), and the rows stay in the order of the attempts.
    """
    again = SmsDelivery.objects.create(
        created_at=reserved.created_at,
        purpose=reserved.purpose,
        user=reserved.user,
        organization=reserved.organization,
        ip=reserved.ip,
        to_masked=reserved.to_masked,
        to_hash=reserved.to_hash,
        status=DeliveryStatus.RESERVED,
    )
    reserved.status = DeliveryStatus.FAILED
    reserved.gateway = gateway
    reserved.error = error
    reserved.save(update_fields=["status", "gateway", "error"])
    return again


def release(reserved: SmsDelivery) -> None:
    """No gateway took the text: its place in the limits and the cooldown is free again."""
    SmsDelivery.objects.filter(pk=reserved.pk, status=DeliveryStatus.RESERVED).delete()


def _scope_keys(
    to: str, user: User | None, organization: Organization | None, ip: str | None
) -> list[str]:
    """One key per scope a limit (or the cooldown, per member or number) counts this text in."""
    keys = [f"number:{number_hash(to)}"]
    if user is not None:
        keys.append(f"user:{user.pk}")
    if ip:
        keys.append(f"ip:{ip}")
    if organization is not None:
        keys.append(f"organization:{organization.pk}")
    return keys


def _lock(keys: list[str]) -> None:
    """Wait for every other reservation of these scopes; held until this transaction ends."""
    if connection.vendor != "postgresql":
        return  # SQLite: the IMMEDIATE transaction already holds the only write lock
    # One statement, its locks taken left to right in one order everywhere: two reservations
    # that share scopes never deadlock.
    ids = sorted(_lock_id(key) for key in keys)
    calls = ", ".join(["pg_advisory_xact_lock(%s)"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", ids)  # only placeholders: the ids are parameters


def _lock_id(key: str) -> int:
    """The signed 64-bit advisory lock of a scope (a collision only makes two scopes queue)."""
    digest = hashlib.sha256(f"twofold.sms.reservation:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
