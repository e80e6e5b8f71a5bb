"""Start-up checks, run by ``twofold check`` and before every ``serve`` and ``migrate``."""

from __future__ import annotations

from typing import Any

import lxml.etree
import xmlsec
from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=False)
def libxml2_versions_match(**kwargs: Any) -> list[checks.CheckMessage]:
    """lxml and xmlsec must embed the same libxml2, or SAML signature checks crash (DESIGN.md)."""
    lxml_version = lxml.etree.LIBXML_VERSION
    xmlsec_version = xmlsec.get_libxml_version()
    if tuple(lxml_version) == tuple(xmlsec_version):
        return []
    return [
        checks.Error(
            f"lxml uses libxml2 {lxml_version} but xmlsec uses {xmlsec_version}",
            hint="Install the pinned versions from requirements/constraints.txt.",
            id="twofold.E001",
        )
    ]


@checks.register(checks.Tags.caches)
def cache_is_shared(**kwargs: Any) -> list[checks.CheckMessage]:
    """Rate limits and replay guards live in the cache: it must be shared by all workers."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("locmem.LocMemCache", "dummy.DummyCache")) and not getattr(
        settings, "TWOFOLD_UNIT_TESTS", False
    ):
        return [
            checks.Error(
                f"The cache backend {backend} is private to one process",
                hint="Use the database cache (default) or set TWOFOLD_REDIS_URL.",
                id="twofold.E002",
            )
        ]
    return []


# Gateways that never reach a phone: codes end up in a file or the log, readable on the machine.
LOCAL_SMS_GATEWAYS = frozenset({"outbox", "console"})


@checks.register(checks.Tags.security)
def sms_reaches_phones(**kwargs: Any) -> list[checks.CheckMessage]:
    """In production, texts must go to phones: the outbox and console keep codes on this machine.

    Left at the default (the outbox), production refuses to start (``twofold serve`` runs this
    check); an operator who names a local gateway in TWOFOLD_SMS_GATEWAYS chose it, and is warned.
    """
    sms = settings.TWOFOLD.sms
    local = [name for name in sms.gateways if name in LOCAL_SMS_GATEWAYS]
    if not settings.TWOFOLD.is_production or not local:
        return []
    if not sms.gateways_chosen:
        return [
            checks.Error(
                "No SMS gateway is configured: the default outbox keeps codes on this machine "
                "and texts no phone",
                hint="Set TWOFOLD_SMS_GATEWAYS to twilio, sns or webhook "
                "(or to outbox, to run production without texts on purpose).",
                id="twofold.E003",
            )
        ]
    return [
        checks.Warning(
            f"SMS gateway(s) {', '.join(local)} send no texts: codes stay on this machine",
            hint="Set TWOFOLD_SMS_GATEWAYS to twilio, sns or webhook (outbox is for trying out).",
            id="twofold.W001",
        )
    ]
