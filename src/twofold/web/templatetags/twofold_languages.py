"""{% languages as languages %}: (code, name in its own language) of settings.LANGUAGES, for the
language switch (web/language.py). Django's {% get_available_languages %} translates the names
("Englisch" on a German page); a person looks for their language in its own words."""

from __future__ import annotations

from django import template

from twofold.organizations.language import choices

register = template.Library()


@register.simple_tag
def languages() -> list[tuple[str, str]]:
    return choices()
