"""A member's language: their own choice, else their account's default (docs/languages.md).

Pages add the browser's (the language switch's cookie, else Accept-Language) below both, in
``web/language.py``. What a member receives without a request (texts, emails) is written in
:func:`in_language_of`: the recipient's language, not that of whoever caused it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from twofold.errors import FlowError
from twofold.organizations.models import Organization, membership_with_organization
from twofold.users.models import User


def codes() -> list[str]:
    """The languages Twofold speaks, as ``settings.LANGUAGES`` lists them."""
    return [code for code, _name in settings.LANGUAGES]


def choices() -> list[tuple[str, str]]:
    """(code, name in its own language) for a select box; the names are never translated."""
    return list(settings.LANGUAGES)


def account_default(organization: Organization | None) -> str | None:
    language = organization.default_language if organization else ""
    return language if language in codes() else None


def chosen_language(user: User) -> str | None:
    """The member's own choice, else their account's default; None: neither (the browser's)."""
    if user.language in codes():
        return user.language
    membership = membership_with_organization(user)
    return account_default(membership.organization if membership else None)


def choose_language(user: User, language: str) -> None:
    """The member's own choice; "" goes back to their account's default (else the browser's)."""
    if language and language not in codes():
        raise FlowError(gettext("Choose one of the languages offered."), param="language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


@contextmanager
def in_language_of(user: User | None, organization: Organization | None = None) -> Iterator[None]:
    """Write what ``user`` receives in their language (or, for someone not a member yet, in
    ``organization``'s default); without either, in the language already active."""
    language = chosen_language(user) if user is not None else account_default(organization)
    with translation.override(language or translation.get_language()):
        yield
