"""A readable name for a device from its User-Agent header ("Firefox on Windows").

Only for showing a member their sessions: a user agent is whatever the client says, so nothing
here is a security decision. Order matters: Edge and Opera also say "Chrome", Chrome also says
"Safari", Android also says "Linux" and iOS also says "Mac OS X".
"""

from __future__ import annotations

import re

UNKNOWN = "Unknown device"

# (pattern, name), first match wins.
_BROWSERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"\bEdg(e|A|iOS)?/", "Edge"),
        (r"\b(OPR|Opera)/", "Opera"),
        (r"\bSamsungBrowser/", "Samsung Internet"),
        (r"\b(Firefox|FxiOS)/", "Firefox"),
        # HeadlessChrome: Chromium without a window (a test, a bot) is still Chrome.
        (r"\b(HeadlessChrome|Chrome|Chromium|CriOS)/", "Chrome"),
        (r"\bVersion/[\d.]+.*\bSafari/", "Safari"),
        (r"^curl/", "curl"),
        (r"^python-requests/", "Python requests"),
        (r"^okhttp/", "Android app"),
    )
)
_SYSTEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"\biPhone\b", "iPhone"),
        (r"\biPad\b", "iPad"),
        (r"\bAndroid\b", "Android"),
        (r"\bCrOS\b", "ChromeOS"),
        (r"\bWindows\b", "Windows"),
        (r"\bMac OS X\b|\bMacintosh\b", "macOS"),
        (r"\bLinux\b", "Linux"),
    )
)


def _first(table: tuple[tuple[re.Pattern[str], str], ...], user_agent: str) -> str | None:
    return next((name for pattern, name in table if pattern.search(user_agent)), None)


def describe(user_agent: str) -> str:
    """Browser and system ("Firefox on Windows"), one of them alone, or "Unknown device"."""
    browser, system = _first(_BROWSERS, user_agent), _first(_SYSTEMS, user_agent)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN
