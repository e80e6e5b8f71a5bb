"""The German and French catalogues are complete: every entry translated, none fuzzy, and each
translation keeps its placeholders (docs/languages.md)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.LOCALE_PATHS[0])
# %(name)s for Python and templates, {name} for str.format, and the HTML a translation must keep.
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}|</?\w+[^>]*>")


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def texts(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(source, translation) pairs: one, or each plural form against the plural source."""
    if not entry.msgid_plural:
        return [(entry.msgid, entry.msgstr)]
    forms = [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [(entry.msgid, forms[0]), *((entry.msgid_plural, form) for form in forms[1:])]


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_entry_is_translated(language: str) -> None:
    po = catalogue(language)
    assert len(po) > 100, "the catalogue lost its entries: run make messages"
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    assert untranslated == [], f"{language}: not translated: {untranslated[:10]}"


@pytest.mark.parametrize("language", ["de", "fr"])
def test_no_entry_is_fuzzy(language: str) -> None:
    po = catalogue(language)
    assert not po.metadata_is_fuzzy, f"{language}: the header is marked fuzzy"
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert fuzzy == [], f"{language}: fuzzy (check, then remove the flag): {fuzzy[:10]}"


@pytest.mark.parametrize("language", ["de", "fr"])
def test_translations_keep_their_placeholders(language: str) -> None:
    wrong = [
        source
        for entry in catalogue(language)
        for source, translation in texts(entry)
        if sorted(set(PLACEHOLDER.findall(source))) != sorted(set(PLACEHOLDER.findall(translation)))
    ]
    assert wrong == [], f"{language}: placeholders or markup differ: {wrong[:5]}"


def test_the_catalogues_are_compiled_for_the_tests() -> None:
    # make compiles them (the catalogues target); without .mo files every page is English.
    for language in ("de", "fr"):
        assert (LOCALE / language / "LC_MESSAGES" / "django.mo").exists(), "run make catalogues"


@pytest.mark.parametrize("language", ["de", "fr"])
def test_no_entry_is_there_twice(language: str) -> None:
    # msgfmt refuses a catalogue with a duplicate: the build would leave the language English.
    keys = [(entry.msgctxt, entry.msgid) for entry in catalogue(language)]
    twice = sorted({msgid for _, msgid in keys if keys.count((_, msgid)) > 1})
    assert twice == [], f"{language}: twice: {twice[:5]}"
