"""Readable device names from user agents (sessions/devices.py)."""

from __future__ import annotations

import pytest

from twofold.sessions.devices import UNKNOWN, describe

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.6478.122 Mobile Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
HEADLESS_CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/126.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (CHROME_MAC, "Chrome on macOS"),
        (EDGE_WINDOWS, "Edge on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (CHROME_ANDROID, "Chrome on Android"),
        (FIREFOX_LINUX, "Firefox on Linux"),
        (HEADLESS_CHROME_LINUX, "Chrome on Linux"),  # issue 19: was "Linux"
        ("curl/8.5.0", "curl"),
        ("", UNKNOWN),
        ("Something/1.0", UNKNOWN),
    ],
)
def test_device_is_named_after_browser_and_system(user_agent, expected):
    assert describe(user_agent) == expected
