"""Cell values as the bulk planner compares them, on top of :func:`dmtools.frames.canonical`.

``frames.canonical`` is the one definition of what a cell means; this module only adapts it
to the planner: a value that cannot be read becomes a :class:`BadValue` carrying the reason,
and read-only columns are compared loosely (a value that cannot be parsed compares as text).

Consequences worth knowing when editing a frame:

* text is compared exactly (no trimming, no Unicode normalisation); in a field that may be
  cleared, ``""`` and a missing value both mean "no value";
* tags are ordered, case-sensitive lists, as the API stores and returns them (reordering
  tags is a change); no tags is ``[]``;
* booleans accept ``true/false``, ``1/0``, ``yes/no`` text.
"""

from __future__ import annotations

from typing import Any

Value = str | bool | list[str] | None


class BadValue(ValueError):
    """A cell that cannot be turned into a value of its field."""


def canonical(name: str, value: Any) -> Any:
    """The canonical value of a cell of field (or column) ``name``.

    Raises:
        BadValue: with the reason, when the cell cannot hold a value of that field.
    """
    from dmtools.errors import InputError
    from dmtools.frames import canonical as frames_canonical

    try:
        return frames_canonical(name, value)
    except InputError as exc:
        reason = exc.problems[0].reason if exc.problems else exc.message
        raise BadValue(reason) from None


def is_cleared(value: Any) -> bool:
    """True for the values that mean "no value" (None, and ``[]`` for tags)."""
    return value is None or value == []


def same_cell(name: str, a: Any, b: Any) -> bool:
    """Whether two cells of a read-only column hold the same value."""
    try:
        return bool(canonical(name, a) == canonical(name, b))
    except BadValue:
        return str(a) == str(b)


def wire_problem(name: str, value: Any) -> str | None:
    """Tags the API's form encoding cannot carry as they are.

    Lists travel comma-separated and the API trims each tag and drops empty ones, so a tag
    with a comma, surrounding spaces or no text would not come back as written.
    """
    if name == "tags" and isinstance(value, list):
        for tag in value:
            if "," in tag:
                return (
                    f"tag {tag[:30]!r} contains a comma, which the API reads as a separator "
                    "between tags"
                )
            if tag != tag.strip() or not tag:
                return f"tag {tag[:30]!r} is empty or has surrounding spaces (the API trims tags)"
    return None
