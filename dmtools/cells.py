"""The canonical form of a cell value: :mod:`dmtools.frames` (``dmtools.frames._cells``).

This module keeps the names importable from ``dmtools.cells``.
"""

from __future__ import annotations

from dmtools.frames._cells import (
    PARSERS,
    canonical,
    field_for,
    from_cell,
    is_missing,
    to_wire,
    value_kind,
)

__all__ = ["PARSERS", "canonical", "field_for", "from_cell", "is_missing", "to_wire", "value_kind"]
