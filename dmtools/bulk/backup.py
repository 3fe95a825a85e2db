"""The backup a delete writes before its first DELETE: a new file, complete and on disk.

Rules (a delete never runs unless they all hold):

* the file is **new**: an existing path of any kind (a file, perhaps the backup of an earlier
  delete; a directory; a symlink, even a dangling one) is refused, never reused or replaced;
* it holds **exactly** the videos the run deletes: it is read back and its ids compared;
* it is **durable**: written with :func:`dmtools._safefiles.atomic_write` (a temporary file
  beside it, fsynced, read back, linked to its name as an atomic "create if absent", and its
  folder fsynced), all before the first DELETE; it is 0600;
* any failure (no permission, full disk, a read-only folder...) raises an
  :class:`~dmtools.errors.InputError` that names the path and says nothing was deleted.

Where the metadata comes from: the rows the plan was made from (``plan_deletes`` keeps them);
a plan without rows (loaded from a file, or resumed from its journal) reads the videos from
the API first.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.bulk.delete_plan import DeletePlan
    from dmtools.bulk.journal import Journal
    from dmtools.client import Client

__all__ = ["Backup", "BackupStep", "default_backup_path", "fetch_records", "write_backup"]

#: Ids per listing request when the metadata is read from the API.
_CHUNK = 100


@dataclass(frozen=True)
class Backup:
    """A written backup: where, its sha256, and the ids it holds."""

    path: Path
    sha256: str
    ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "sha256": self.sha256, "ids": list(self.ids)}

    def intact(self) -> bool:
        """The file is still there, unchanged (same sha256), and not a symlink."""
        try:
            return not self.path.is_symlink() and _sha256(self.path) == self.sha256
        except OSError:
            return False


def default_backup_path(fingerprint: str, runs: Path) -> Path:
    """``runs/deleted-<fingerprint>-<UTC time>.json``, a name not taken yet."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    base = f"deleted-{fingerprint[:12]}-{stamp}"
    path = runs / f"{base}.json"
    n = 1
    while os.path.lexists(path):
        n += 1
        path = runs / f"{base}-{n}.json"
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ids_in(path: Path) -> list[str]:
    """The video ids a backup file holds, read back with the reader of its format."""
    from dmtools.frames.formats import file_format

    read = file_format(path, writing=False, tables_only=False).read
    assert read is not None
    return [str(v) for v in read(path).index]


def _refuse_existing(target: Path, count: int) -> None:
    if os.path.lexists(target):
        kind = (
            "a symbolic link"
            if target.is_symlink()
            else "a directory"
            if target.is_dir()
            else "a file (perhaps the backup of an earlier delete)"
        )
        raise InputError(
            f"the backup path {target} already exists ({kind}); a delete writes its backup "
            f"to a new file and never replaces one: choose another path; nothing was deleted "
            f"({count} video(s) kept)"
        )


def write_backup(target: Path, frame: pd.DataFrame) -> Backup:
    """Write ``frame`` (indexed by video id) to the NEW file ``target``, durably.

    Raises:
        InputError: the path exists, cannot be written (permission, full disk...), or the
            file read back does not hold exactly the frame's videos; nothing is left at
            ``target`` then.
    """
    from dmtools.frames.formats import write_frame

    ids = tuple(str(v) for v in frame.index)
    _refuse_existing(target, len(ids))
    _check_folder(target, len(ids))

    def check(temporary: Path) -> None:
        if sorted(_ids_in(temporary)) != sorted(ids):
            raise InputError(f"the backup written to {target} does not hold the videos to delete")

    try:  # a new file (never replaces one), 0600, on disk and read back before its name
        target.parent.mkdir(parents=True, exist_ok=True)
        write_frame(frame, target, overwrite=False, mode=0o600, fsync=True, check=check)
        return Backup(target, _sha256(target), ids)
    except InputError as exc:
        if os.path.lexists(target):  # the name was taken meanwhile
            _refuse_existing(target, len(ids))
        raise InputError(
            f"cannot write the backup of the {len(ids)} video(s) to delete to {target}: "
            f"{exc.message}; nothing was deleted",
            exc.problems,
        ) from None
    except Exception as exc:  # OSError, and what the format writers raise on a full disk
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            f"cannot write the backup of the {len(ids)} video(s) to delete to {target}: "
            f"{reason or type(exc).__name__}; nothing was deleted"
        ) from None


def _check_folder(target: Path, count: int) -> None:
    for folder in (target.parent, *target.parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise InputError(
                    f"cannot write the backup of the {count} video(s) to delete to "
                    f"{target}: {folder} is not a folder; nothing was deleted"
                )
            break


def fetch_records(client: Client, ids: Sequence[str]) -> pd.DataFrame:
    """The current metadata of ``ids`` read from the API (videos that are gone are left out).

    Listing requests of 100 ids on the account's own videos, then one ``GET /video/<id>``
    for any id the listing did not return. Through an API without an ``ids`` filter (API v2)
    every video is read by itself; fields the API lacks are left out.
    """
    from dmtools.errors import NotFound
    from dmtools.frames import to_frame
    from dmtools.schema import DEFAULT_VIDEO_FIELDS
    from dmtools.videos import get_video, iterate_videos

    lacking = set(client.dialect.missing_fields(DEFAULT_VIDEO_FIELDS))
    fields = [name for name in DEFAULT_VIDEO_FIELDS if name not in lacking]
    found: dict[str, dict[str, Any]] = {}
    listed = ids if "ids" in client.dialect.filters else ()
    for start in range(0, len(listed), _CHUNK):
        chunk = list(listed[start : start + _CHUNK])
        for record in iterate_videos(client, ids=chunk, fields=fields):
            found[str(record["id"])] = record
    for vid in ids:
        if vid not in found:
            try:
                found[vid] = get_video(client, vid, fields)
            except NotFound:
                continue
    return to_frame([found[v] for v in ids if v in found], fields=fields)


class BackupStep:
    """The step a delete job runs before its first DELETE (see the module notes).

    A resumed job reuses a backup it wrote earlier when that file is intact (same sha256)
    and holds every video still to delete; otherwise it writes a new one. Every backup is
    recorded in the journal header (``exports``). :attr:`path` is the file that holds the
    videos once the step has run.
    """

    def __init__(
        self, plan: DeletePlan, client: Client, requested: str | os.PathLike[str] | None
    ) -> None:
        self.plan = plan
        self.client = client
        self.requested = None
        if requested is not None:  # the folder resolved, the name kept (it may be a symlink)
            self.requested = Path(requested).parent.resolve() / Path(requested).name
        self.path: Path | None = None

    def __call__(self, store: Journal) -> None:
        from dmtools.bulk.journal import FINAL

        header = store.header()
        earlier = [
            Backup(Path(e["path"]), str(e["sha256"]), tuple(e["ids"]))
            for e in header.get("exports") or []
            if isinstance(e, dict)
        ]
        pending = [r.video_id for r in store.rows() if r.state not in FINAL]
        kept = [b for b in earlier if b.intact() and set(pending) <= set(b.ids)]
        if kept or not pending:
            self.path = kept[-1].path if kept else (earlier[-1].path if earlier else None)
            return
        if self.requested is not None:
            target = self.requested
        else:
            from dmtools.bulk._files import runs_dir

            target = default_backup_path(self.plan.fingerprint, runs_dir())
        backup = write_backup(target, self._records(pending))
        store.add_header("exports", [b.to_dict() for b in earlier] + [backup.to_dict()])
        self.path = backup.path

    def _records(self, ids: list[str]) -> pd.DataFrame:
        records = self.plan.records
        if records is not None and set(ids) <= set(map(str, records.index)):
            return records.loc[ids]
        return fetch_records(self.client, ids)
