"""``{% widget field %}`` draws exactly what ``{{ field }}`` draws, for every kind of field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.forms import LoginForm, SignupForm
from django import forms
from django.test import RequestFactory
from django.utils.safestring import mark_safe

from twofold.signin.forms import BackupCodeForm, SmsCodeForm, TotpCodeForm
from twofold.web.templatetags.twofold_forms import widget


class StarredInput(forms.TextInput):
    def render(self, *args: Any, **kwargs: Any) -> str:
        return mark_safe(f"*{super().render(*args, **kwargs)}")


class EveryInput(forms.Form):
    text = forms.CharField(initial='a "quoted" <b>&amp;', help_text="Some help")
    safe = forms.CharField(widget=forms.TextInput(attrs={"title": mark_safe("<i>ok</i>")}))
    number = forms.IntegerField(min_value=1, max_value=9, localize=True, initial=1234)
    checked = forms.BooleanField(initial=True, required=False)
    unchecked = forms.BooleanField(required=False, disabled=True)
    hidden = forms.CharField(widget=forms.HiddenInput, initial="h")
    off = forms.CharField(widget=forms.TextInput(attrs={"spellcheck": False, "data-x": True}))
    url = forms.URLField(required=False, assume_scheme="https")
    choice = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])  # not an input: Django draws it
    area = forms.CharField(widget=forms.Textarea)
    initial = forms.CharField(show_hidden_initial=True, initial="i")
    starred = forms.CharField(widget=StarredInput)  # a render of its own: Django draws it


def _login_form(data: dict[str, str] | None = None) -> forms.Form:
    return LoginForm(data, request=RequestFactory().post("/accounts/login/"))


FORMS: dict[str, Callable[[], forms.Form]] = {
    "every input": EveryInput,
    "every input, invalid": lambda: EveryInput(
        {"text": "<x>", "number": "0", "checked": "on", "url": "nope"}
    ),
    "every input, no ids": lambda: EveryInput(auto_id=False),
    "login": _login_form,
    "login, invalid": lambda: _login_form({"login": "a@b.test"}),
    "sign-up": SignupForm,
    "SMS code": SmsCodeForm,
    "SMS code, invalid": lambda: SmsCodeForm({"code": "12"}),
    "app code": TotpCodeForm,
    "backup code, invalid": lambda: BackupCodeForm({"code": ""}),
}


@pytest.mark.parametrize("name", FORMS)
def test_widget_draws_what_django_draws(name: str, db: Any) -> None:
    form = FORMS[name]()
    form.is_valid()

    for field in form:
        assert widget(field) == str(field), field.name
