"""What every challenge shares (``factors/attempts.py``)."""

from __future__ import annotations

import pytest

from twofold.errors import FlowError
from twofold.factors.attempts import code_of


def test_a_typed_code_is_taken_as_it_is():
    assert code_of("123456") == "123456"


@pytest.mark.parametrize("answer", [None, {"id": "a key's answer"}, 123456])
def test_an_answer_that_is_not_a_typed_code_is_a_missing_code_field(answer):
    with pytest.raises(FlowError) as refused:
        code_of(answer)
    assert (refused.value.status, refused.value.code, refused.value.param) == (
        400,
        "required",
        "code",
    )
