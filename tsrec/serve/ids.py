"""What the service accepts as a user id, an item id or a time: one grammar, checked before anything is stored.

An id is an integer in the signed 64-bit range (what SQLite and int64 arrays hold), or a string of 1 to
``MAX_ID_LENGTH`` URL-safe characters (letters, digits, ``.``, ``_``, ``~``, ``-``), so every user can be
addressed as ``/users/{user}/recommendations``. A string that spells an integer is that integer ("7" and 7
are one user; "007" stays a string). Times are Unix seconds, finite, from 0 to ``MAX_TIME``. Anything else raises
:class:`InvalidInput`, whose message names the field and quotes at most ``QUOTE`` characters of the value.
"""
from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["MAX_ID_LENGTH", "MAX_TIME", "InvalidInput", "quote", "parse_id", "parse_time"]

MAX_ID_LENGTH = 128
INT64 = (-(2**63), 2**63 - 1)
MAX_TIME = 2**40  # Unix seconds: year 36812, far beyond any real event, far inside int64
QUOTE = 100
_ID = re.compile(r"[A-Za-z0-9._~-]+")
_INT = re.compile(r"-?(0|[1-9][0-9]*)")


class InvalidInput(ValueError):
    """A request field the service cannot use; the message says which and why (sent back as a 422)."""


def quote(value: Any) -> str:
    """``repr(value)`` cut to ``QUOTE`` characters, so an error never echoes a huge input back."""
    if isinstance(value, str) and len(value) > QUOTE:
        return f"{value[:QUOTE]!r}… ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * QUOTE:
        return f"an integer of {value.bit_length():,} bits"
    text = repr(value)
    return text if len(text) <= QUOTE else f"{text[:QUOTE]}…"


def parse_id(value: Any, field: str = "id") -> int | str:
    """The id as an int (range-checked) or a URL-safe string; InvalidInput otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"{field} must be an integer or a string, got {type(value).__name__} {quote(value)}")
    if isinstance(value, str):
        if not value or len(value) > MAX_ID_LENGTH:
            raise InvalidInput(f"{field} must have 1 to {MAX_ID_LENGTH} characters, got {len(value):,}: {quote(value)}")
        if _INT.fullmatch(value):
            value = int(value)
        elif not _ID.fullmatch(value):
            raise InvalidInput(f"{field} may only use letters, digits and . _ ~ - (so it fits in a URL), got "
                               f"{quote(value)}")
        else:
            return value
    if not INT64[0] <= value <= INT64[1]:
        raise InvalidInput(f"{field} must lie in the signed 64-bit range, got {quote(value)}")
    return value


def parse_time(value: Any, field: str = "timestamp") -> int:
    """Unix seconds as an int: a finite number in 0..MAX_TIME; InvalidInput otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{field} must be Unix seconds (a number), got {type(value).__name__} {quote(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{field} must be a finite number of Unix seconds, got {value!r}")
    if not 0 <= value <= MAX_TIME:
        raise InvalidInput(f"{field} must be Unix seconds between 0 and {MAX_TIME:,}, got {quote(value)}; "
                           "send seconds, not milliseconds")
    return int(value)
