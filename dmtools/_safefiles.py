"""Putting a finished file in place: atomic, never through a symlink, never over a file
unless asked.

Every writer of dmtools writes to a temporary file beside the target first, so a failure
never leaves a partial file. :func:`place` then moves it to its name: with ``overwrite`` by
``os.replace`` (which replaces a symlink itself, never the file it points to), without it by
``os.link`` (an atomic "create if absent") so an existing file is never replaced, even one
that appeared after a check.
"""

from __future__ import annotations

import os
from pathlib import Path

from dmtools.errors import InputError

__all__ = ["check_target", "place"]


def check_target(target: Path, *, overwrite: bool, hint: str = "") -> None:
    """Refuse a target that is a symlink or a directory, or an existing file without
    ``overwrite`` (InputError naming it; ``hint`` says how to go on)."""
    more = f"; {hint}" if hint else ""
    if target.is_symlink():
        raise InputError(
            f"{target} is a symbolic link; dmtools never writes through one: "
            f"give the real path{more}"
        )
    if target.is_dir():
        raise InputError(f"{target} is a folder, not a file{more}")
    if not overwrite and target.exists():
        raise InputError(f"{target} already exists; it was left as it is{more}")


def place(temporary: Path, target: Path, *, overwrite: bool = True) -> None:
    """Move the complete file ``temporary`` to ``target`` (see the module notes).

    Raises:
        InputError: ``target`` exists and ``overwrite`` is False (``temporary`` is removed).
    """
    if overwrite:
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise InputError(f"{target} already exists; it was left as it is") from None
    finally:
        temporary.unlink(missing_ok=True)
