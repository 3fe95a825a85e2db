"""Writing files safely: :func:`atomic_write`, the one way every writer of dmtools writes.

A file is written complete to a temporary file beside its target, then moved to its name, so
a failure (an error, a full disk, a killed process) never leaves a partial file:

1. the temporary ``.<name>.<16 hex>.tmp`` is created exclusively (``O_EXCL``, never through
   a symlink) with the file's ``mode``;
2. the data is written to it (bytes, text, or by a writer function given its path);
3. with ``fsync``, it is flushed to disk; a ``check`` may then read it back;
4. it is moved to its name: with ``overwrite`` by ``os.replace`` (which replaces a symlink
   itself, never the file it points to), without it by ``os.link`` (an atomic "create if
   absent", so an existing file is never replaced, even one that appeared meanwhile);
5. with ``fsync``, the folder is flushed too, so the new name survives a power cut.

Token stores, CLI profiles, plans, exports, results, delete backups and history files all go
through it. :func:`check_target` refuses a target that is a symlink, a folder, or (without
``overwrite``) an existing file, before any work is done.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dmtools.errors import InputError

__all__ = ["atomic_write", "check_target", "fsync_folder", "place", "temporary_name"]

#: What :func:`atomic_write` writes: bytes, text (UTF-8), or a function that writes the
#: complete file at the path it is given.
Data = bytes | str | Callable[[Path], object]


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


def temporary_name(target: Path, suffix: str = "") -> Path:
    """A fresh temporary path beside ``target``: ``.<name>.<16 hex>.tmp<suffix>``."""
    return target.with_name(f".{target.name}.{os.urandom(8).hex()}.tmp{suffix}")


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


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk (where the platform can)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # not supported on this platform
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder
        pass
    finally:
        os.close(fd)


def _create(temporary: Path, data: Data, mode: int, fsync: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, mode)
    with os.fdopen(fd, "wb") as handle:
        if isinstance(data, bytes | str):
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    if callable(data):
        data(temporary)
    if fsync:
        fd = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(
    path: str | os.PathLike[str],
    data: Data,
    *,
    mode: int = 0o600,
    fsync: bool = True,
    overwrite: bool = True,
    check: Callable[[Path], object] | None = None,
    suffix: str = "",
) -> Path:
    """Write a complete file at ``path``, atomically (see the module notes).

    Args:
        path: the target; its folder must exist.
        data: bytes, text (written as UTF-8), or ``write(temporary_path)``, which writes the
            complete file there (a CSV, workbook or Parquet writer).
        mode: permissions of the new file (the process umask applies): 0600 by default;
            ``0o666`` gives what any new file of the user gets.
        fsync: flush the file, then the folder, to disk.
        overwrite: replace an existing file; False refuses one (InputError), even one that
            appears while the file is written.
        check: called with the temporary path once the file is complete, before it gets its
            name (a delete's backup is read back there); raising leaves nothing behind.
        suffix: added to the temporary's name (a reader that goes by suffix can read it).

    Returns:
        The path written.

    Raises:
        InputError: ``path`` exists and ``overwrite`` is False; or what ``data`` or
            ``check`` raise. OSError: the file cannot be written (the temporary is removed).

    Example:
        >>> atomic_write(tmp / "plan.json", '{"ops": []}')           # doctest: +SKIP
    """
    target = Path(path)
    temporary = temporary_name(target, suffix)
    try:
        _create(temporary, data, mode, fsync)
        if check is not None:
            check(temporary)
        place(temporary, target, overwrite=overwrite)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_folder(target.parent)
    return target
