"""The canonical form of a video field's value: what a cell *means*.

The bulk-edit planner compares cells with :func:`canonical` and the file importers parse with
the same parsers, so both always agree. Canonical values are ``str``, ``bool``, ``list[str]``,
``int`` (integers, and dates as unix seconds) or ``None``:

===========  =========================================================================
kind         canonical value
===========  =========================================================================
text         ``str`` unchanged (no trimming, no Unicode normalisation); for a field that
             may be cleared, ``""`` and a missing value are both ``None``
category     ``str`` (``""`` is ``None`` unless the field is required)
boolean      ``bool`` (``true/false``, ``yes/no``, ``1/0`` in any case are accepted)
integer      ``int``
date         ``int`` unix seconds (datetimes without a zone are UTC; ISO 8601 text works)
tags         ``list[str]`` in order, case kept; missing is ``[]``; text is read as a JSON
             list (``["a, b", "c"]``) or as ``a, b, c`` (comma-separated, trimmed)
===========  =========================================================================

Every parser raises one internal error, :class:`BadCell` (with the reason), whatever the
value; :func:`cell_value` gives the canonical value or raises it, for the layers that collect
problems (the frame builder, the planner), and :func:`canonical` is the public edge that turns
it into an :class:`~dmtools.errors.InputError` naming the column.

Example:
    >>> from dmtools.frames import canonical
    >>> canonical("tags", "music, live")
    ['music', 'live']
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from dmtools import schema
from dmtools.errors import InputError, Problem
from dmtools.schema import SECONDS_RANGE, Field, field_for

__all__ = [
    "PARSERS",
    "BadCell",
    "canonical",
    "cell_value",
    "field_for",
    "from_cell",
    "is_missing",
    "parse",
    "to_wire",
    "value_kind",
]

_INT_RE = re.compile(r"[+-]?\d+")
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = datetime(1970, 1, 1)


class BadCell(ValueError):
    """A cell that cannot be a value of its field (internal: the edges turn it into an
    :class:`~dmtools.errors.InputError` naming the row and column).

    Attributes:
        reason: why, for people.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def value_kind(spec: Field) -> str:
    """How a field's values are held: text, category, tags, bool, int, float, date or object."""
    if spec.kind == "array":
        return "tags"
    if spec.dtype.startswith("datetime64"):
        return "date"
    return {
        "string": "text",
        "category": "category",
        "boolean": "bool",
        "Int64": "int",
        "Float64": "float",
    }.get(spec.dtype, "object")


def is_missing(value: Any) -> bool:
    """True for None, ``pd.NA``, ``NaT`` and NaN (not for ``""`` or ``[]``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(math.isnan(value))
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


# -- parsers: one per value kind; each raises BadCell(reason) ----------------------------------


def _unicode(text: str) -> str:
    """``text`` when it is valid Unicode (UTF-8 can carry it); BadCell for a lone surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadCell("not valid Unicode text (it holds a lone surrogate)") from None
    return text


def _text(value: Any) -> str:
    if isinstance(value, str):
        return _unicode(str(value))
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    raise BadCell(f"a {type(value).__name__} is not text")


def _bool(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating) and float(value) in (0.0, 1.0):
        return bool(value)
    if isinstance(value, np.integer):
        value = int(value)
    try:
        return schema.parse_bool(value)
    except ValueError as exc:
        raise BadCell(str(exc)) from None


def _int(value: Any) -> int:
    number: int | None = None
    if isinstance(value, bool | np.bool_):
        raise BadCell(f"{value!r} is not a whole number")
    if isinstance(value, int | np.integer):
        number = int(value)
    elif isinstance(value, float | np.floating) and float(value).is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if _INT_RE.fullmatch(text):
            number = int(text)
        else:
            try:
                as_float = float(text)
            except ValueError:
                as_float = math.nan
            if as_float.is_integer():
                number = int(as_float)
    if number is None:
        raise BadCell(f"{value!r} is not a whole number")
    if not -(2**63) <= number < 2**63:
        raise BadCell(f"{number} is out of range")
    return number


def _seconds(value: Any) -> int:
    """Unix seconds (rounded to the second) from seconds, a datetime or ISO 8601 text."""
    seconds: int | None = None
    if isinstance(value, bool | np.bool_):
        pass
    elif isinstance(value, int | np.integer):
        seconds = int(value)
    elif isinstance(value, float | np.floating) and math.isfinite(value):
        seconds = round(float(value))
    elif isinstance(value, datetime | date | np.datetime64):
        seconds = _date_seconds(value)
    elif isinstance(value, str):
        text = value.strip()
        if _INT_RE.fullmatch(text):
            seconds = int(text)
        elif _ISO_RE.match(text):
            seconds = _iso_seconds(text)
    if seconds is None:
        raise BadCell(
            f"{value!r} is not a date (use ISO 8601 such as 2024-01-02T03:04:05Z, or unix seconds)"
        )
    if not SECONDS_RANGE[0] <= seconds <= SECONDS_RANGE[1]:
        raise BadCell(f"{value!r} is out of the supported date range (years 1677 to 2262)")
    return seconds


def _date_seconds(value: datetime | date | np.datetime64) -> int | None:
    """Unix seconds of a date or datetime (naive ones are UTC), in exact integer arithmetic:
    no nanosecond timestamp, so a date of any year gives a number (the range is checked after)."""
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        value = value.asm8
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        micros = int(value.astype("datetime64[us]").astype("int64"))
        return (micros + 500_000) // 1_000_000
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    delta = value.replace(tzinfo=None) - _EPOCH
    return delta.days * 86_400 + delta.seconds + (delta.microseconds >= 500_000)


def _iso_seconds(text: str) -> int | None:
    """Unix seconds of ISO 8601 text (None when it is not a date pandas can read)."""
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, OverflowError):
        return None
    return None if stamp is pd.NaT else _date_seconds(stamp)


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if not text.startswith("["):
            return [_unicode(part.strip()) for part in text.split(",") if part.strip()]
        try:
            value = json.loads(text)
        except ValueError:
            raise BadCell('tags are not a JSON list (write ["a", "b"] or a, b)') from None
        if not isinstance(value, list):
            raise BadCell("tags are not a JSON list")
    if isinstance(value, list | tuple | np.ndarray):
        items = list(value)
        if all(isinstance(item, str) for item in items):
            return [_unicode(str(item)) for item in items]
        raise BadCell("every tag must be text")
    raise BadCell(f"a {type(value).__name__} is not a list of tags")


def _float(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        raise BadCell(f"{value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadCell(f"{value!r} is not a number") from None


def _same(value: Any) -> Any:
    return value


PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "category": _text,
    "bool": _bool,
    "int": _int,
    "float": _float,
    "date": _seconds,
    "tags": _tags,
    "object": _same,
}


def parse(kind: str, value: Any) -> Any:
    """A present (not missing) value of a value kind, parsed; BadCell says why it cannot be.

    Any other error a parser meets on a hostile value (a number too large, an odd object) is
    a BadCell too: nothing else leaves this function.
    """
    try:
        return PARSERS[kind](value)
    except BadCell:
        raise
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        raise BadCell(f"{_shown(value)} cannot be read ({type(exc).__name__})") from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def cell_value(field: str, value: Any) -> Any:
    """The canonical form of a value of ``field`` (see :func:`canonical`).

    Raises:
        BadCell: the value cannot be a value of that field (the reason only: the caller
            knows the row and column).
    """
    spec = field_for(field)
    kind = value_kind(spec)
    if is_missing(value):
        return [] if kind == "tags" else None
    out = parse(kind, value)
    if out == "" and kind in ("text", "category") and not spec.required:
        return None
    if spec.name == "channel" and isinstance(out, str):
        return schema.category_value(out)  # a label ("Video games") means its category
    return out


def canonical(field: str, value: Any) -> Any:
    """The canonical form of a value of ``field`` (a field or column name).

    Text and categories -> ``str`` (unchanged: no trimming, no Unicode normalisation), booleans
    -> ``bool``, tags -> ``list[str]`` (missing -> ``[]``; JSON list text or ``a, b`` text is
    parsed), integers -> ``int``, dates -> unix seconds (``int``), missing -> ``None``. For a
    text field that may be cleared, ``""`` is ``None`` too.

    Raises:
        InputError: the value cannot be a value of that field (the message says why).

    Example:
        >>> canonical("tags", '["a, b", "c"]'), canonical("description", ""), canonical("private", "yes")
        (['a, b', 'c'], None, True)
    """
    try:
        return cell_value(field, value)
    except BadCell as exc:
        column = field_for(field).column
        raise InputError(f"{column}: {exc.reason}", [Problem(None, column, exc.reason)]) from None


def from_cell(field: str, value: Any) -> Any:
    """A frame cell of ``field`` in canonical form (see :func:`canonical`); for comparisons.

    Example:
        >>> from_cell("title", "NA")
        'NA'
    """
    return canonical(field, value)


def to_wire(field: str, value: Any, limits: schema.FieldLimits = schema.LIMITS_PUBLIC) -> Any:
    """The value to send for ``field``: canonical, then checked by :func:`schema.check_value`.

    ``None`` means "clear the field" (for a field that may be cleared).

    Raises:
        InputError: the value cannot be written (read-only field, bad value, over a limit).

    Example:
        >>> to_wire("published", "true")
        True
    """
    spec = field_for(field)
    out = canonical(spec.name, value)
    reason = schema.check_value(spec.name, out, limits)
    if reason is not None:
        raise InputError(f"{spec.column}: {reason}", [Problem(None, spec.column, reason)])
    return out
