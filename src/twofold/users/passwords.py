"""Password rules beyond Django's: a generous maximum and context-specific words.

ASVS 6.2.5: no composition rules. ASVS 6.2.9: 64+ characters allowed. ASVS 6.1.2 / 6.2.11: the
documented context words (docs/security.md) are refused as the substance of a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

# Product and role words; the organization's name and the member's own email and name join them.
CONTEXT_WORDS = ("twofold", "password", "administrator", "admin", "member", "account", "login")
# A password that is a context word plus at most this many other characters is refused.
MAX_EXTRA_CHARACTERS = 4
MAX_LENGTH = 4096


def _letters_and_digits(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def context_words(user: Any, extra: Iterable[str] = ()) -> list[str]:
    """The words a password of this user may not be built on; ``extra``: a new account's name."""
    words = [*CONTEXT_WORDS, *extra]
    if user is not None:
        email = getattr(user, "email", "") or ""
        words += [email.partition("@")[0], email.partition("@")[2].partition(".")[0]]
        words.append(getattr(user, "name", "") or "")
        membership = getattr(user, "membership", None) if getattr(user, "pk", None) else None
        if membership is not None:
            words.append(membership.organization.name)
    cleaned = (_letters_and_digits(w) for w in words)
    return [w for w in dict.fromkeys(cleaned) if len(w) >= 4]


def check_context_words(password: str, user: Any, extra: Iterable[str] = ()) -> None:
    """Raise ValidationError when ``password`` is mostly one of the context words."""
    candidate = _letters_and_digits(password)
    for word in context_words(user, extra):
        if word in candidate and len(candidate) - len(word) <= MAX_EXTRA_CHARACTERS:
            raise ValidationError(
                gettext(
                    "This password is too easy to guess: it is mostly a word from this service, "
                    "your account or your email address."
                ),
                code="password_context_word",
            )


class ContextWordsValidator:
    def validate(self, password: str, user: Any = None) -> None:
        check_context_words(password, user)

    def get_help_text(self) -> str:
        return (
            "Your password cannot be mostly your name, email, account name or this service's name."
        )


class MaximumLengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > MAX_LENGTH:
            raise ValidationError(
                gettext("This password is longer than %(MAX_LENGTH)s characters.")
                % {"MAX_LENGTH": MAX_LENGTH},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password can be up to {MAX_LENGTH} characters long."
