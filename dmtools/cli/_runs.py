"""Where the commands keep their run artefacts, and how they find them again.

Everything a run leaves behind goes to one folder, ``runs/`` in the current directory (or
``$DMTOOLS_RUNS_DIR``), which holds a ``.gitignore`` of ``*`` so git never picks it up:

==================================  =====================================================
artefact                             name
==================================  =====================================================
snapshot of an export                ``runs/<file>.<UTC time>.snapshot.parquet``
journal of a plan's job              ``runs/<plan>-<fingerprint>.journal`` (``.run2`` ... for
                                     ``apply --again``), its ``.lock`` beside it
results of that job                  the journal's name with ``.result.csv``
undo job of it                       ``<journal>.undo.journal`` and ``.undo.result.csv``
delete job                           ``runs/delete-<fingerprint>.journal``
delete backup                        ``runs/deleted-<fingerprint>-<UTC time>.json``
all problems of a refused input      ``runs/problems-<UTC time>.csv``
==================================  =====================================================

A snapshot is found again from the edited file's *content*, not its name, so saving the
edited file under another name still finds it: :func:`find_snapshot`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dmtools._safefiles import check_target
from dmtools.bulk._files import runs_dir
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "check_output",
    "find_snapshot",
    "job_journal",
    "new_snapshot_path",
    "problems_file",
    "result_path",
    "runs_dir",
]

#: Snapshot files looked at when searching for the one an edited file came from.
MAX_CANDIDATES = 50


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def check_output(path: Path, *, force: bool, option: str = "") -> None:
    """Refuse to write ``path`` if it is a symlink or a folder, or exists without ``force``."""
    hint = f"pass --force to replace it{f', or choose another {option}' if option else ''}"
    check_target(path, overwrite=force, hint=hint)


def _free(folder: Path, stem: str, suffix: str) -> Path:
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists() or path.is_symlink():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


def new_snapshot_path(output: Path) -> Path:
    """A new snapshot name for an export to ``output`` (never an existing file)."""
    return _free(runs_dir(), f"{output.name}.{_stamp()}", ".snapshot.parquet")


def job_journal(plan_file: Path, fingerprint: str, *, again: bool = False) -> Path:
    """The journal of the latest job of a plan (a new one with ``again``)."""
    from dmtools.bulk._jobfiles import job_runs, next_run

    first = runs_dir() / f"{plan_file.name.removesuffix('.json')}-{fingerprint[:12]}.journal"
    if again:
        return next_run(first)
    runs = job_runs(first)
    return runs[-1] if runs else first


def result_path(journal: Path) -> Path:
    """``x.journal`` -> ``x.result.csv`` beside it."""
    return journal.with_name(journal.name.removesuffix(".journal") + ".result.csv")


def problems_file(problems: Sequence[Problem]) -> Path:
    """Write every problem to ``runs/problems-<time>.csv`` (row, column, reason)."""
    import csv

    path = _free(runs_dir(), f"problems-{_stamp()}", ".csv")
    with path.open("x", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "column", "reason"])
        writer.writerows([p.row or "", p.column or "", p.reason] for p in problems)
    return path


# -- finding the snapshot of an edited file ---------------------------------------------------


def _candidates(edited: Path) -> list[Path]:
    stem = edited.name[: -len(edited.suffix)] if edited.suffix else edited.name
    beside = edited.with_name(f"{stem}.snapshot.parquet")  # files of dmtools before runs/
    found = {p.resolve() for p in runs_dir().glob("*.snapshot.parquet")}
    found |= {p.resolve() for p in edited.parent.glob("*.snapshot.parquet")}
    ordered = sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:MAX_CANDIDATES]
    named = [p for p in ordered if p.name.startswith(edited.name + ".")]
    first = [beside.resolve()] if beside.is_file() else []
    return list(dict.fromkeys(first + named + ordered))


def _same(old: pd.Series, new: pd.Series, column: str) -> bool:
    from dmtools.bulk._values import same_cell

    a, b = old.reset_index(drop=True), new.reset_index(drop=True)
    positions: Iterable[int]
    if a.dtype == b.dtype:
        try:
            unequal = ~(a.eq(b).fillna(False).astype(bool) | (a.isna() & b.isna()))
            positions = unequal.to_numpy().nonzero()[0]
        except (TypeError, ValueError):
            positions = range(len(b))
    else:
        positions = range(len(b))
    return all(same_cell(column, a.iloc[i], b.iloc[i]) for i in positions)


def _matches(snapshot: pd.DataFrame, edited: pd.DataFrame) -> bool:
    """Every edited id is in the snapshot, with the same read-only values."""
    from dmtools.schema import column_field

    ids = [str(v) for v in edited.index]
    known = set(map(str, snapshot.index))
    if not set(ids) <= known:
        return False
    if len(set(ids)) != len(ids) or snapshot.index.duplicated().any():
        return True  # the planner reports the duplicates
    fields = {c: column_field(str(c)) for c in edited.columns if c in snapshot.columns}
    fixed = [c for c, spec in fields.items() if spec is not None and not spec.editable]
    before = snapshot.loc[ids]
    return all(_same(before[c], edited[c], c) for c in fixed)


def find_snapshot(edited_path: Path, edited: pd.DataFrame) -> tuple[Path, pd.DataFrame]:
    """The snapshot the edited file was exported with, found by its content.

    A candidate must hold every video of the edited file, with the same read-only values
    (views, creation time...). The newest such snapshot wins, preferring one made for a file
    of the same name. Several candidates that disagree on the edited videos' editable values
    are an error: the user picks one with ``--snapshot``. When no candidate has the same
    read-only values, the newest one holding every video is used, so that the planner names
    each read-only cell that was changed.

    Raises:
        InputError: no snapshot matches, or several different ones do.
    """
    from dmtools.frames import read_parquet

    matches: list[tuple[Path, pd.DataFrame]] = []
    holders: list[tuple[Path, pd.DataFrame]] = []
    ids = {str(v) for v in edited.index}
    for path in _candidates(edited_path):
        try:
            snapshot = read_parquet(path)
        except (InputError, OSError):
            continue
        if _matches(snapshot, edited):
            matches.append((path, snapshot))
        elif ids <= set(map(str, snapshot.index)):
            holders.append((path, snapshot))
    if not matches and holders:
        return holders[0]  # read-only values were changed: the planner names every one
    if not matches:
        raise InputError(
            f"no snapshot holds the videos of {edited_path} (looked in {runs_dir()} and "
            f"{edited_path.parent.resolve()}): pass --snapshot (the .snapshot.parquet file "
            "`dmtools export` wrote)"
        )
    wanted = list(edited.index)
    columns = [c for c in edited.columns if c in matches[0][1].columns]
    chosen = matches[0][1].loc[wanted, columns]
    for path, other in matches[1:]:
        if set(columns) <= set(other.columns) and not other.loc[wanted, columns].equals(chosen):
            raise InputError(
                f"several snapshots could be the one {edited_path} was exported with, and "
                f"they differ ({matches[0][0].name}, {path.name}): pass --snapshot"
            )
    return matches[0]
