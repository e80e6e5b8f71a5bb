"""The JSON body rules shared by Twofold's endpoints and allauth's (api/body.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django import forms
from django.test import Client

from twofold.api import body
from twofold.organizations.models import Membership, Organization


def rename(client: Client, data: Any) -> Any:
    return client.patch("/api/v1/organization", json.dumps(data), content_type="application/json")


@pytest.mark.parametrize("name", [[None, None], ["Acme"], {"x": 1}, 42, True])
def test_asvs_15_3_5_a_non_string_name_is_refused_and_renames_nothing(
    administrator: Membership, administrator_client: Client, name: Any
) -> None:
    """``{"name": [null, null]}`` renamed the account "[None, None]"."""
    before = administrator.organization.name

    response = rename(administrator_client, {"name": name})

    assert response.status_code == 400
    assert [(e["code"], e.get("param")) for e in response.json()["errors"]] == [
        ("wrong_type", "name")
    ]
    assert Organization.objects.get(pk=administrator.organization.pk).name == before


def test_a_string_name_still_renames(
    administrator: Membership, administrator_client: Client
) -> None:
    response = rename(administrator_client, {"name": "Acme Two"})

    assert response.status_code == 200
    assert Organization.objects.get(pk=administrator.organization.pk).name == "Acme Two"


class _Form(forms.Form):
    text = forms.CharField(required=False)
    choice = forms.ChoiceField(choices=[("a", "A")], required=False)
    flag = forms.BooleanField(required=False)
    several = forms.MultipleChoiceField(choices=[("a", "A")], required=False)
    number = forms.IntegerField(required=False)
    anything = forms.JSONField(required=False)


@pytest.mark.parametrize(
    ("data", "wrong"),
    [
        ({"text": "a", "choice": "a", "flag": True, "several": ["a"]}, None),
        ({"text": None, "flag": None, "number": 3, "anything": {"deep": [1]}}, None),
        ({"several": "a"}, None),  # not a list: the field itself answers invalid_list
        ({"text": ["a"]}, "text"),
        ({"choice": 1}, "choice"),
        ({"flag": "false"}, "flag"),
        ({"several": [None]}, "several"),
        ({"undeclared": [1]}, None),
    ],
)
def test_wrong_type_names_the_first_value_a_field_would_stringify(
    data: dict[str, Any], wrong: str | None
) -> None:
    assert body.wrong_type(_Form.base_fields, data, undeclared_is_text=False) == wrong


def test_an_undeclared_key_is_text_where_forms_add_fields_when_built() -> None:
    assert body.wrong_type({}, {"email": ["a@b.test"]}, undeclared_is_text=True) == "email"
    assert body.wrong_type({}, {"email": "a@b.test"}, undeclared_is_text=True) is None


@pytest.mark.parametrize(
    ("raw", "deeper"),
    [
        (b"[" * 32 + b"]" * 32, False),
        (b"[" * 33 + b"]" * 33, True),
        (b'{"a": "' + b"[" * 100 + b'"}', False),
        (b'{"a": "\\"' + b"{" * 100 + b'"}', False),
        (b'{"a": [{"b": [{"c": {}}]}]}', False),
    ],
)
def test_nesting_is_counted_outside_strings(raw: bytes, deeper: bool) -> None:
    assert body.nested_deeper_than(raw, body.MAX_DEPTH) is deeper
