"""Each error code Twofold gives has one HTTP status, and docs/api.md "## Error codes" lists every
one of them with that status (``| code | status | when |``), and nothing Twofold does not give.

The codes are read from the source with ``ast``: importing it would see only what happens to be
imported, and a regex would also see comments and words that are no codes. A code is given by

- a call of ``FlowError`` or of a class derived from it (``errors.py``, ``sms/numbers.py``):
  its ``code=``, else the class's default ``code``; the status is the class's ``status``;
- ``responses.error(status, code, …)``;
- ``ValidationError(…, code=…)`` (no code: ``invalid``): a form's refusal, a 400 from
  ``responses.form_errors`` or from allauth's answer to an invalid input;
- ``APIResponse(…, errors=[{"code": …}], status=…)``: a login stage's refusal;
- ``….validation_error("…")``: one of allauth's codes, raised by Twofold's adapter (a 400).

Codes and statuses must be literals there, so that this test (and a reader) sees them. Rows whose
"when" starts with "Django's form validation" are codes of Django's form fields; rows starting with
"allauth's" are allauth's: they are documented without Twofold raising them itself.
"""

from __future__ import annotations

import ast
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

import pytest
from django import forms
from django.core import validators

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "twofold"
API_DOCS = ROOT / "docs" / "api.md"
BASE_CLASS = "FlowError"
FORM_ERROR_STATUS = 400  # responses.form_errors; allauth answers an invalid input so too
UNCODED_FORM_ERROR = "invalid"  # what responses.form_errors answers for a ValidationError without
DJANGO = "Django's form validation"
ALLAUTH = "allauth's"
T = TypeVar("T")
ROW = re.compile(r"\| `(?P<code>[a-z0-9_]+)` \| (?P<status>[1-5]\d\d) \| (?P<when>.+) \|")


@dataclass(frozen=True)
class Given:
    """A code the source gives, with the status it is answered with and where."""

    code: str
    status: int
    where: str


@dataclass(frozen=True)
class Row:
    """A row of the table in docs/api.md."""

    code: str
    status: int
    when: str


# --- The source ---------------------------------------------------------------------------------


def source_modules() -> dict[str, ast.Module]:
    """Every module of ``src/twofold``, parsed, by its path from the repository's root (a new
    dictionary each time: a test may add a module of its own)."""
    return dict(_parsed_source())


@cache
def _parsed_source() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(ROOT)): ast.parse(path.read_text(), str(path))
        for path in sorted(SOURCE.rglob("*.py"))
    }


def _name(node: ast.expr) -> str | None:
    """``Conflict`` for ``Conflict`` and for ``errors.Conflict``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _constants(definition: ast.ClassDef) -> dict[str, object]:
    """The class's own ``name = <literal>`` assignments (``status = 409``, ``code = "…"``)."""
    found: dict[str, object] = {}
    for statement in definition.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = statement.value.value
    return found


def flow_error_classes(modules: Iterable[ast.Module]) -> dict[str, tuple[int, str]]:
    """``FlowError`` and every class derived from it, in any module: the status and default code
    each declares or inherits."""
    definitions = [
        node for module in modules for node in ast.walk(module) if isinstance(node, ast.ClassDef)
    ]
    found: dict[str, tuple[int, str]] = {}
    added = True
    while added:  # a class derived from a derived class is found on a later pass
        added = False
        for definition in definitions:
            parents = [found[name] for name in map(_name, definition.bases) if name in found]
            if definition.name in found or not (parents or definition.name == BASE_CLASS):
                continue
            inherited = parents[0] if parents else (None, None)
            declared = _constants(definition)
            status = declared.get("status", inherited[0])
            code = declared.get("code", inherited[1])
            assert isinstance(status, int), f"{definition.name}: a status that is not a literal"
            assert isinstance(code, str), f"{definition.name}: a code that is not a literal"
            found[definition.name] = (status, code)
            added = True
    assert BASE_CLASS in found, "FlowError is not found in src/twofold"
    return found


def _literal(node: ast.expr | None, kind: type[T], where: str) -> T:
    if isinstance(node, ast.Constant) and isinstance(node.value, kind):
        return node.value
    raise AssertionError(
        f"{where}: an error code or status that is not a literal; write it out in the call"
    )


def _error_entries(node: ast.expr, status: int, where: str) -> Iterator[Given]:
    """``[{"code": "…", "message": …}, …]`` as written in an ``APIResponse(errors=…)``."""
    for entry in node.elts if isinstance(node, ast.List) else [node]:
        fields = zip(entry.keys, entry.values, strict=True) if isinstance(entry, ast.Dict) else []
        codes = [
            value for key, value in fields if isinstance(key, ast.Constant) and key.value == "code"
        ]
        yield Given(_literal(codes[0] if codes else None, str, where), status, where)


def _given_by(call: ast.Call, classes: dict[str, tuple[int, str]], where: str) -> Iterator[Given]:
    name = _name(call.func)
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    if name in classes:
        status, default = classes[name]
        code = _literal(keywords["code"], str, where) if "code" in keywords else default
        yield Given(code, status, where)
    elif (
        name == "error"
        and isinstance(call.func, ast.Attribute)
        and _name(call.func.value) == "responses"
    ):
        status = keywords.get("status", call.args[0] if call.args else None)
        code = keywords.get("code", call.args[1] if len(call.args) > 1 else None)
        yield Given(_literal(code, str, where), _literal(status, int, where), where)
    elif name == "ValidationError":
        code = _literal(keywords["code"], str, where) if "code" in keywords else None
        yield Given(code or UNCODED_FORM_ERROR, FORM_ERROR_STATUS, where)
    elif name == "APIResponse" and "errors" in keywords:
        status = _literal(keywords.get("status"), int, where)
        yield from _error_entries(keywords["errors"], status, where)
    elif name == "validation_error":
        first = call.args[0] if call.args else None
        yield Given(_literal(first, str, where), FORM_ERROR_STATUS, where)


def given_codes(modules: dict[str, ast.Module]) -> list[Given]:
    """Every code the modules give, each time it is given."""
    classes = flow_error_classes(modules.values())
    found: list[Given] = []
    for path, module in modules.items():
        for node in ast.walk(module):
            if isinstance(node, ast.Call):
                found.extend(_given_by(node, classes, f"{path}:{node.lineno}"))
    return found


# --- The documentation --------------------------------------------------------------------------


def documented_rows() -> list[Row]:
    """The rows of the table under "## Error codes" in docs/api.md, in their order."""
    section = API_DOCS.read_text().split("\n## Error codes\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        match = ROW.fullmatch(line)
        assert match, f"docs/api.md: a row of the error codes table this test cannot read: {line}"
        rows.append(Row(match["code"], int(match["status"]), match["when"]))
    assert rows, "docs/api.md: no table under '## Error codes'"
    return rows


def django_form_codes() -> set[str]:
    """The codes Django's form fields and their validators refuse a value with."""
    codes: set[str] = set()
    for field in vars(forms.fields).values():
        if isinstance(field, type) and issubclass(field, forms.Field):
            for cls in field.__mro__:
                codes.update(vars(cls).get("default_error_messages", {}))
    for validator in vars(validators).values():
        code = getattr(validator, "code", None)
        if isinstance(validator, type) and isinstance(code, str):
            codes.add(code)
    return codes


# --- The tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def given() -> list[Given]:
    return given_codes(source_modules())


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return documented_rows()


def test_every_error_code_the_code_raises_is_documented(given: list[Given], rows: list[Row]):
    documented = {row.code for row in rows}
    missing = sorted(
        {f"{g.code} ({g.status}, {g.where})" for g in given if g.code not in documented}
    )
    assert missing == [], "add these codes to docs/api.md '## Error codes'"


def test_every_documented_error_code_is_raised_or_is_djangos_or_allauths(
    given: list[Given], rows: list[Row]
):
    raised = {g.code for g in given}
    extra = [
        r.code for r in rows if r.code not in raised and not r.when.startswith((DJANGO, ALLAUTH))
    ]
    assert extra == [], "docs/api.md lists codes Twofold does not give"


def test_codes_documented_as_djangos_are_codes_of_djangos_form_fields(rows: list[Row]):
    django = django_form_codes()
    assert [r.code for r in rows if r.when.startswith(DJANGO) and r.code not in django] == []
    assert all(r.status == FORM_ERROR_STATUS for r in rows if r.when.startswith(DJANGO))


def test_each_error_code_has_one_row(rows: list[Row]):
    counted = Counter(row.code for row in rows)
    assert sorted(code for code, times in counted.items() if times > 1) == []


def test_each_error_code_has_one_status(given: list[Given]):
    sites: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for g in given:
        sites[g.code].add((g.status, g.where))
    several = {
        code: sorted(found)
        for code, found in sites.items()
        if len({status for status, _ in found}) > 1
    }
    assert several == {}, "give one of the uses a code of its own"


def test_each_error_code_has_the_status_of_its_row(given: list[Given], rows: list[Row]):
    documented = {row.code: row.status for row in rows}
    wrong = sorted(
        f"{g.code}: {g.status} at {g.where}, {documented[g.code]} in docs/api.md"
        for g in given
        if g.code in documented and g.status != documented[g.code]
    )
    assert wrong == []


# --- The reading itself: a code given in any of these ways is seen ------------------------------


@pytest.mark.parametrize(
    ("snippet", "code", "status"),
    [
        ('raise Conflict("Taken.", code="brand_new")', "brand_new", 409),
        ('raise errors.NotFound("There is none.")', "not_found", 404),
        ('raise FlowError("No.", code="brand_new", param="x")', "brand_new", 400),
        ('raise InvalidPhoneNumber("No.")', "phone_invalid", 400),
        ('return responses.error(418, "brand_new", "A teapot.")', "brand_new", 418),
        ('raise forms.ValidationError("No.", code="brand_new")', "brand_new", 400),
        ('raise ValidationError("No.")', "invalid", 400),
        (
            'return APIResponse(r, errors=[{"code": "brand_new", "message": m}], status=403)',
            "brand_new",
            403,
        ),
        ('raise self.validation_error("brand_new")', "brand_new", 400),
    ],
)
def test_the_reading_sees_a_code_given_in_each_way(snippet: str, code: str, status: int):
    modules = source_modules()
    modules["trial.py"] = ast.parse(f"def trial():\n    {snippet}\n")
    assert Given(code, status, "trial.py:2") in given_codes(modules)


def test_the_reading_sees_the_status_and_code_of_a_class_derived_from_a_derived_class():
    modules = source_modules()
    modules["trial.py"] = ast.parse(
        "class Teapot(Conflict):\n    status = 418\n\n\n"
        "class Kettle(Teapot):\n    code = 'kettle'\n\n\n"
        "def trial():\n    raise Kettle('Boiling.')\n"
    )
    assert Given("kettle", 418, "trial.py:10") in given_codes(modules)


@pytest.mark.parametrize(
    "snippet",
    [
        'raise Conflict("Taken.", code=CODE)',
        'return responses.error(status, "brand_new", "No.")',
        "return APIResponse(r, errors=[error], status=403)",
    ],
)
def test_a_code_or_status_that_is_not_a_literal_fails_the_reading(snippet: str):
    modules = source_modules()
    modules["trial.py"] = ast.parse(f"def trial():\n    {snippet}\n")
    with pytest.raises(AssertionError, match=re.escape("trial.py:2: an error code or status")):
        given_codes(modules)
