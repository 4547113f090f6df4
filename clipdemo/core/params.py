"""Parameters checked at the door: each API value is the type and range it must be, or a UserError naming it.

A JSON client can send anything where a number belongs (NaN, Infinity, 1e400, "abc", a list); left to
the engine, such a value surfaced as a ValueError deep inside and was reported as a server bug. These
checks run first and say which parameter is wrong and what it takes. Whole numbers sent as 2.0 or "2"
are taken (JSON clients do that); a fraction, a non-finite number or a value out of range is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from clipdemo.core.errors import InputError

SHOWN_CHARS = 80  # how much of a bad value a message repeats


def shown(value) -> str:
    """A bad value as a message shows it: its repr, cut (a 7 MB text must not come back whole)."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + f"… ({len(text)} characters)"


def integer(name: str, value, lo: int, hi: int, default: int | None = None) -> int:
    """`value` as a whole number in [lo, hi]; None or "" gives `default` (when there is one)."""
    if (value is None or value == "") and default is not None:
        return default
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise InputError(f"{name} must be a whole number from {lo} to {hi} (got {shown(value)}).") from None
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise InputError(f"{name} must be a whole number from {lo} to {hi} (got {shown(value)}).")
    if not math.isfinite(number) or number != int(number):
        raise InputError(f"{name} must be a whole number from {lo} to {hi} (got {shown(value)}).")
    if not lo <= number <= hi:
        raise InputError(f"{name} must lie between {lo} and {hi} (got {shown(value)}).")
    return int(number)


def text(name: str, value, default: str = "") -> str:
    """`value` as a text; None gives `default`. Numbers, lists and objects are refused."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise InputError(f"{name} must be a text (got a {type(value).__name__}: {shown(value)}).")
    return value


def choice(name: str, value, options: Sequence[str], default: str) -> str:
    """`value` as one of `options` (case as given); None or "" gives `default`."""
    value = text(name, value, default) or default
    if value not in options:
        raise InputError(f"{name} must be one of {', '.join(options)} (got {shown(value)}).")
    return value
