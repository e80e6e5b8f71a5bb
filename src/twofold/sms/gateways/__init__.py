"""The SMS gateways Twofold ships, one module each, built from the typed settings.

Each module offers ``from_settings(sms: SmsSettings) -> SmsGateway``. A provider's SDK is
imported only when that provider is configured, so an unused SDK costs nothing at start-up.
"""

from __future__ import annotations

import importlib

from twofold.config.sms import GATEWAY_NAMES, SmsSettings
from twofold.sms.gateway import SmsGateway


def build(name: str, sms: SmsSettings) -> SmsGateway:
    if name not in GATEWAY_NAMES:  # settings refused it already; this guards direct callers
        raise ValueError(f"unknown SMS gateway {name!r}")
    module = importlib.import_module(f"{__name__}.{name}")
    gateway: SmsGateway = module.from_settings(sms)
    return gateway
