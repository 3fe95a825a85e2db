"""Cell values as the bulk planner compares them, on top of :func:`dmtools.frames.canonical`.

The frame layer is the one definition of what a cell means (its parsers raise one internal
error, turned into ``InputError`` problems by the planner); this module only adds the
planner's rules: read-only columns are compared loosely (a value that cannot be parsed
compares as text), and tags must survive the API's form encoding.

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


def is_cleared(value: Any) -> bool:
    """True for the values that mean "no value" (None, and ``[]`` for tags)."""
    return value is None or value == []


def same_cell(name: str, a: Any, b: Any) -> bool:
    """Whether two cells of a read-only column hold the same value."""
    from dmtools.frames._cells import BadCell, cell_value

    try:
        return bool(cell_value(name, a) == cell_value(name, b))
    except BadCell:
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
