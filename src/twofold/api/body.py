"""A JSON request body, read once by the same rules for Twofold's endpoints and allauth's.

Guaranteed by :func:`json_object`: the body is at most :data:`MAX_BODY_BYTES` (413 ``too_large``,
checked on ``Content-Length`` before a byte is read), nested at most :data:`MAX_DEPTH` deep (400
``invalid_json``, checked by a linear scan before the parser, whose recursion a deep body would
exhaust) and one JSON object (400 ``invalid_json``). :func:`wrong_type` then names a value a
form field would stringify (``{"name": [null, null]}`` became the name ``"[None, None]"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import HttpRequest, JsonResponse

from twofold.api import responses

MAX_BODY_BYTES = 64 * 1024
# allauth's and Twofold's bodies nest 4 deep at most (a security key's answer); 32 leaves room.
MAX_DEPTH = 32

_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")


class BodyRefused(Exception):
    """The body breaks a rule above; ``response`` is the JSON error to answer."""

    def __init__(self, response: JsonResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def too_large() -> JsonResponse:
    return responses.error(413, "too_large", "The request body is too large.")


def json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object ({} when empty); :class:`BodyRefused` when it breaks a rule."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    # Refused before reading: a large body costs nothing but the refusal (ASVS 15.2.2).
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyRefused(too_large())
    raw = request.body
    if not raw:
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise BodyRefused(too_large())
    if nested_deeper_than(raw, MAX_DEPTH):
        # Before the parser: a deep body exhausts its recursion (RecursionError, a 500).
        raise BodyRefused(_invalid_json(f"The body must be JSON nested at most {MAX_DEPTH} deep."))
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BodyRefused(_invalid_json("The body must be JSON.")) from None
    if not isinstance(body, dict):
        raise BodyRefused(_invalid_json("The body must be a JSON object."))
    return body


def nested_deeper_than(raw: bytes, limit: int) -> bool:
    """True when ``raw`` opens more than ``limit`` arrays or objects inside each other; brackets
    inside strings do not count. One pass, no recursion: safe on any input."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSE:
            depth -= 1
    return False


def wrong_type(
    fields: Mapping[str, forms.Field], body: Mapping[str, Any], *, undeclared_is_text: bool
) -> str | None:
    """The first key of ``body`` whose JSON value is not of the type its field takes, or None.

    A text or choice field takes a string, a boolean field a boolean, a list for a
    multiple-choice field holds strings (or ids), a model choice takes a string or an id; ``null``
    is "absent" for every field, and a multiple-choice field answers a value that is no list
    itself (``invalid_list``). Other fields (numbers, dates, JSON) check their values themselves.
    With ``undeclared_is_text``, a key no field declares is taken as text: allauth's forms add
    their email, username, password and phone fields when they are built (ASVS 15.3.5).
    """
    for key, value in body.items():
        field = fields.get(key)
        if value is None or (field is None and not undeclared_is_text):
            continue
        if not _accepts(field, value):
            return key
    return None


def wrong_type_response(key: str) -> JsonResponse:
    return responses.error(
        400, "wrong_type", f"“{key}” has a JSON value of a type this field does not take.", key
    )


def _accepts(field: forms.Field | None, value: Any) -> bool:
    # Order matters: JSONField is a CharField, the multiple-choice fields are choice fields.
    if isinstance(field, forms.JSONField):
        return True  # any JSON value: the field takes it as it is
    if isinstance(field, forms.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, forms.ModelMultipleChoiceField):
        return not isinstance(value, list) or all(_is_id(item) for item in value)
    if isinstance(field, forms.MultipleChoiceField):
        return not isinstance(value, list) or all(isinstance(item, str) for item in value)
    if isinstance(field, forms.ModelChoiceField | forms.TypedChoiceField):
        return _is_id(value)
    if field is None or isinstance(field, forms.CharField | forms.ChoiceField):
        return isinstance(value, str)
    return True


def _is_id(value: Any) -> bool:
    """A string, or a whole number that is not a boolean (``True`` would read as id 1)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _invalid_json(message: str) -> JsonResponse:
    return responses.error(400, "invalid_json", message)
