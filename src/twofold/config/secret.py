"""Secrets in settings: values that never print (STYLE.md rule 9; Starlette's ``Secret``)."""

from __future__ import annotations


class Secret:
    """A string that shows as ``'**********'`` wherever it is printed or logged."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)
