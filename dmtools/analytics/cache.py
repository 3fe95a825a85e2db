"""Finished results on disk, keyed by the request, so the same question costs no report.

With ``cache=True`` (or a folder), :func:`dmtools.analytics.load_analytics` keeps each
frame it returns as a Parquet file named by a hash of the account and the request (metrics,
dimensions, dates, filters, product), in ``analytics-cache/`` of the data folder
(:func:`~dmtools.analytics.state.data_dir`). A kept frame is used again only when the range
it covers had ended before the day it was fetched (UTC): those days were complete, while a
range reaching the fetch day (today's views still coming in) is asked for again. Files are
written to a temporary name, then renamed (never half a file), mode 0600, in a 0700 folder,
never through a symbolic link.

Example:
    >>> cache = ResultCache(default_cache_dir())                     # doctest: +SKIP
    >>> cache.get(account, query) is None                             # doctest: +SKIP
    True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from dmtools.analytics.state import data_dir, private_folder

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.analytics.query import ReportQuery

__all__ = ["ResultCache", "default_cache_dir"]

log = logging.getLogger("dmtools.analytics")
_FETCHED = b"dmtools.fetched"


def default_cache_dir() -> Path:
    """Where results are cached by default."""
    return data_dir() / "analytics-cache"


class ResultCache:
    """Result frames of one folder (see the module notes)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, account: str, query: ReportQuery) -> Path:
        name = hashlib.sha256(f"{account}\n{query.key()}".encode()).hexdigest()[:32]
        return self.folder / f"{name}.parquet"

    def get(self, account: str, query: ReportQuery) -> pd.DataFrame | None:
        """The kept frame of this request, if there is one and its days were complete."""
        import pyarrow.parquet as pq

        path = self.path(account, query)
        if not path.is_file() or path.is_symlink():
            return None
        try:
            table = pq.read_table(path)
            fetched = dt.date.fromisoformat((table.schema.metadata or {})[_FETCHED].decode())
        except (OSError, KeyError, ValueError) as exc:
            log.warning("ignoring the unreadable cached result %s: %s", path, exc)
            return None
        if query.end >= fetched:
            return None
        log.info("using the cached result %s (fetched %s)", path.name, fetched)
        return table.to_pandas()

    def put(self, account: str, query: ReportQuery, frame: pd.DataFrame) -> Path:
        """Keep ``frame`` as the result of this request (fetched today, UTC)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        private_folder(self.folder)
        target = self.path(account, query)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        fetched = dt.datetime.now(dt.UTC).date().isoformat().encode()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _FETCHED: fetched})
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pq.write_table(table, handle)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target
