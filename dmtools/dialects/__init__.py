"""API dialects: the one place that knows how each generation of the API is worded.

:class:`Dialect` (in :mod:`dmtools.dialects.base`) is the interface; one module per dialect
implements it. A new API generation plugs in as one new module and one line in
:data:`DIALECTS`; the loader, bulk engine, frames and reports do not change.

Example:
    >>> get_dialect("legacy").name
    'legacy'
"""

from __future__ import annotations

import importlib

from dmtools.dialects.base import Call, Dialect, Op, Page, segment
from dmtools.errors import InputError

__all__ = ["DIALECTS", "Call", "Dialect", "Op", "Page", "get_dialect", "segment"]

#: Dialect name -> ``module:attribute`` of its instance (imported on first use).
DIALECTS: dict[str, str] = {
    "legacy": "dmtools.dialects.legacy:LEGACY",
    "v2": "dmtools.dialects.v2:V2",
}


def get_dialect(dialect: Dialect | str | None = None) -> Dialect:
    """The dialect named ``dialect`` (None: the legacy API), or ``dialect`` itself.

    Raises:
        InputError: an unknown name.
    """
    if isinstance(dialect, Dialect):
        return dialect
    name = "legacy" if dialect is None else dialect
    if name not in DIALECTS:
        raise InputError(f"unknown API dialect {name!r}: use one of {', '.join(DIALECTS)}")
    module, attribute = DIALECTS[name].split(":")
    found = getattr(importlib.import_module(module), attribute)
    assert isinstance(found, Dialect)
    return found
