"""The canonical form of a cell value, now in :mod:`dmtools.frames` (``frames._cells``).

This module keeps ``dmtools.cells`` importable: it is that module's names.
"""

from __future__ import annotations

from dmtools.frames._cells import *  # noqa: F403
from dmtools.frames._cells import __all__ as __all__
