"""A small schema language for scenario keys: type, default, range, choices.

A :class:`Key` checks one value and says what it expected when the value is wrong;
:func:`check` raises :class:`~sim.errors.ScenarioError` naming the source, the dotted
key and the expectation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import ScenarioError

__all__ = ["Key", "REQUIRED", "check"]


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()

_TYPES = ("int", "float", "str", "bool", "int_list", "str_list", "temperature", "any")


@dataclass(frozen=True)
class Key:
    """One scenario key.

    Parameters
    ----------
    type : str
        ``int``, ``float`` (ints accepted), ``str``, ``bool``, ``int_list``, ``str_list``,
        ``temperature`` (a number, a list of [T, duration] pairs or a table), ``any``.
    default : object
        :data:`REQUIRED` when the key must be given.
    min, max : float, optional
        Inclusive bounds for numbers (and for every element of ``int_list``).
    choices : tuple, optional
        Allowed values.
    doc : str
    """

    type: str
    default: Any = REQUIRED
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    doc: str = ""

    def __post_init__(self):
        if self.type not in _TYPES:
            raise ValueError(f"unknown key type {self.type!r}")

    def expectation(self) -> str:
        words = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
                 "int_list": "a list of integers", "str_list": "a list of strings",
                 "temperature": "a temperature schedule (number, [[T, duration], ...] or table)",
                 "any": "a value"}[self.type]
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.min is not None and self.max is not None:
            return f"{words} in [{self.min}, {self.max}]"
        if self.min is not None:
            return f"{words} >= {self.min}"
        if self.max is not None:
            return f"{words} <= {self.max}"
        return words


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool))


def check(key: Key, value: Any, *, source: str, name: str) -> Any:
    """Validate ``value`` against ``key``; return it (ints widened to float for ``float``)."""
    def fail():
        raise ScenarioError(source, name, f"expected {key.expectation()}, got {value!r}")

    t = key.type
    if t == "int":
        if not _is_int(value):
            fail()
    elif t == "float":
        if not _is_num(value) or not math.isfinite(value):
            fail()
        value = float(value)
    elif t == "str":
        if not isinstance(value, str):
            fail()
    elif t == "bool":
        if not isinstance(value, bool):
            fail()
    elif t == "int_list":
        if not isinstance(value, list) or not value or not all(_is_int(v) for v in value):
            fail()
    elif t == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            fail()
    elif t == "temperature":
        from .schedule import temperatures

        try:
            temperatures(value, 1000)  # long enough to expose a negative or overflowing T
        except (ValueError, TypeError, KeyError) as exc:
            raise ScenarioError(source, name, f"expected {key.expectation()}: {exc}") from None
    if key.choices is not None and value not in key.choices:
        fail()
    nums = value if t == "int_list" else [value] if t in ("int", "float") else []
    for v in nums:
        if (key.min is not None and v < key.min) or (key.max is not None and v > key.max):
            fail()
    return value
