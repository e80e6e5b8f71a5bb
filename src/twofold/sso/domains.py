"""Email domains as DNS stores them: lower case, international names as A-labels (IDNA), so that
"Bücher.test" typed in a form and "anna@bücher.test" typed at sign-in name the same domain."""

from __future__ import annotations

import idna


def ascii_domain(name: str) -> str | None:
    """``name`` in A-labels, lower case, without a leading ``@`` or trailing dot; None when it is
    not a valid international domain name."""
    name = name.strip().lower().removeprefix("@").rstrip(".")
    try:
        return str(idna.encode(name, uts46=True).decode("ascii"))
    except idna.IDNAError:
        return None


def domain_of_email(email: str) -> str:
    """The domain of an email address in A-labels; "" when there is none."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local:
        return ""
    return ascii_domain(domain) or ""
