"""Report files: creation with the documented limits, lifecycle, generation, files (no HTTP).

A report is a row of the ``reports`` table; its CSV files are rows of ``report_files``, so a
sandbox on a database file keeps reports across restarts. Times are on the sandbox
:class:`~dmtools.sandbox.state.clock.Clock`:

* ``IN_PROGRESS`` from its creation until ``report_delay`` seconds have passed;
* then ``FINISHED`` (the files are generated at the first look after that, with the data as
  of the report's creation), or ``FAILED`` when a failure was injected;
* ``EXPIRED`` ``report_lifetime`` seconds (48 h) after its creation: no links, files gone.

At most ``report_max_in_progress`` reports of one API key are ``IN_PROGRESS`` at once (the
check and the insert are one transaction). API keys have report *permissions*
(:data:`~dmtools.sandbox.state.reporting.catalog.REPORT_SCOPES`, all of them unless set
otherwise): earnings need ``access_revenue`` and ad metrics ``access_ads`` from the key,
and from the token's scopes too when the ``report_scope_check`` setting is on.

Example:
    >>> reports = Reports(store, Clock())
    >>> token = reports.create(asker, query)          # doctest: +SKIP
    >>> reports.get(token, asker.client_id).status    # doctest: +SKIP
    'IN_PROGRESS'
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dmtools.sandbox.state.queries import Paging, VideoFilter, Visibility
from dmtools.sandbox.state.reporting import catalog
from dmtools.sandbox.state.reporting.query import (
    ReportQuery,
    ReportRefused,
    check_query,
    needed_permissions,
)

if TYPE_CHECKING:
    from dmtools.sandbox.state.clock import Clock
    from dmtools.sandbox.state.store import Store

log = logging.getLogger("dmtools.sandbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL,
    owners TEXT NOT NULL, query TEXT NOT NULL, created_at REAL NOT NULL, ready_at REAL NOT NULL,
    expires_at REAL NOT NULL, failed INTEGER NOT NULL DEFAULT 0, file_id TEXT NOT NULL,
    parts INTEGER, rows INTEGER);
CREATE INDEX IF NOT EXISTS reports_client ON reports (client_id, ready_at);
CREATE TABLE IF NOT EXISTS report_files (
    file_id TEXT NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (file_id, part));
CREATE TABLE IF NOT EXISTS report_access (client_id TEXT PRIMARY KEY, permissions TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Asker:
    """Who asks: the API key, the channels (owner ids) it reports on, the token's scopes."""

    client_id: str
    owners: tuple[str, ...]
    scopes: frozenset[str]


@dataclass(frozen=True)
class ReportView:
    """A report as a poll sees it."""

    seq: int
    token: str
    status: str
    created_at: float
    file_id: str
    parts: int  #: CSV files (0 unless FINISHED)
    rows: int


class Reports:
    """The reports of one sandbox (thread-safe)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._generate_lock = threading.Lock()
        self._fail_next = 0
        with store.db.read() as conn:
            conn.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")  # one commit

    # -- permissions -------------------------------------------------------------------
    def permissions(self, client_id: str) -> frozenset[str]:
        """The report permissions of an API key (all of them unless set)."""
        with self.store.db.read() as conn:
            row = conn.execute(
                "SELECT permissions FROM report_access WHERE client_id = ?", (client_id,)
            ).fetchone()
        return frozenset(catalog.REPORT_SCOPES if row is None else json.loads(row[0]))

    def set_permissions(self, client_id: str, permissions: Iterable[str]) -> list[str]:
        """Set an API key's report permissions; the sorted list.

        Raises:
            ValueError: an unknown key or permission name.
        """
        names = sorted(set(permissions))
        unknown = [n for n in names if n not in catalog.REPORT_SCOPES]
        if unknown:
            raise ValueError(f"unknown report permissions: {', '.join(unknown)}")
        if self.store.client(client_id) is None:
            raise ValueError(f"unknown API key {client_id!r}")
        with self.store.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO report_access VALUES (?, ?)", (client_id, json.dumps(names))
            )
        return names

    def check_access(self, asker: Asker, action: str) -> None:
        """``create`` needs ``create_reports``; ``read`` also takes ``read_reports``.

        Raises:
            ReportRefused: ``missing_scope``.
        """
        accepted = {"create_reports"} if action == "create" else {"create_reports", "read_reports"}
        if not accepted & self.permissions(asker.client_id):  # the key's own permissions
            raise ReportRefused("missing_scope", "This API key has no access to the Reporting API.")
        if self.store.settings.report_v2_tokens:
            accepted = accepted | {catalog.V2_ANALYTICS_SCOPE}
        if not accepted & asker.scopes:
            raise ReportRefused(
                "missing_scope",
                f"The access token needs the scope {' or '.join(sorted(accepted))}.",
            )

    def _check_metrics(self, asker: Asker, query: ReportQuery) -> None:
        key = self.permissions(asker.client_id)
        strict = self.store.settings.report_scope_check
        for permission in needed_permissions(query):
            if permission not in key:
                raise ReportRefused(
                    "missing_scope",
                    f"This API key lacks the {permission} permission needed by "
                    f"{', '.join(m for m in query.metrics if catalog.METRIC_PERMISSION.get(m) == permission)}.",
                )
            if strict and permission not in asker.scopes:
                raise ReportRefused(
                    "missing_scope", f"The access token needs the scope {permission}."
                )

    # -- lifecycle ---------------------------------------------------------------------
    def create(self, asker: Asker, query: ReportQuery) -> str:
        """Register a report; its token.

        Raises:
            ReportRefused: a limit, a missing permission or scope, too many in progress.
        """
        settings = self.store.settings
        self.check_access(asker, "create")
        check_query(
            query, max_days=settings.report_max_days, max_dimensions=settings.report_max_dimensions
        )
        self._check_metrics(asker, query)
        token = "emu_rpt_" + secrets.token_urlsafe(24)
        now = self.clock.now()
        with self.store.db.write() as conn:
            busy = conn.execute(
                "SELECT count(*) FROM reports WHERE client_id = ? AND ready_at > ? "
                "AND expires_at > ?",
                (asker.client_id, now, now),
            ).fetchone()[0]
            if busy >= settings.report_max_in_progress:
                raise ReportRefused(
                    "too_many_concurrent_reports",
                    f"{busy} reports of this API key are in progress; at most "
                    f"{settings.report_max_in_progress} at once. Wait for one to finish.",
                )
            failed = self._take_failure()
            conn.execute(
                "INSERT INTO reports (token, client_id, owners, query, created_at, ready_at,"
                " expires_at, failed, file_id) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    token,
                    asker.client_id,
                    json.dumps(list(asker.owners)),
                    query.to_json(),
                    now,
                    now + settings.report_delay,
                    now + settings.report_lifetime,
                    int(failed),
                    secrets.token_urlsafe(18),
                ),
            )
        return token

    def _take_failure(self) -> bool:
        if self._fail_next > 0:
            self._fail_next -= 1
            return True
        return False

    def fail_next(self, n: int) -> None:
        """The next ``n`` reports created will fail (after their delay)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 1000:
            raise ValueError("n must be an integer between 0 and 1000")
        self._fail_next = n

    def _row(self, token: str) -> Any:
        with self.store.db.read() as conn:
            return conn.execute("SELECT * FROM reports WHERE token = ?", (token,)).fetchone()

    def _status(self, row: Any, now: float) -> str:
        if now >= row["expires_at"]:
            return "EXPIRED"
        if now < row["ready_at"]:
            return "IN_PROGRESS"
        return "FAILED" if row["failed"] else "FINISHED"

    def get(self, token: str, client_id: str | None) -> ReportView:
        """A report of ``client_id`` (any key's when None), generated if just finished.

        Raises:
            ReportRefused: ``report_not_found`` (unknown, or another key's report).
        """
        row = self._row(token) if isinstance(token, str) else None
        if row is None or (client_id is not None and row["client_id"] != client_id):
            raise ReportRefused("report_not_found", "No report has this reportToken.")
        status = self._status(row, self.clock.now())
        if status == "FINISHED" and row["parts"] is None:
            row = self._generate(row)
            status = self._status(row, self.clock.now())
        if status == "EXPIRED" and row["parts"]:
            self._drop_files(row["file_id"])
        ready = status == "FINISHED"
        return ReportView(
            row["seq"],
            row["token"],
            status,
            row["created_at"],
            row["file_id"],
            int(row["parts"] or 0) if ready else 0,
            int(row["rows"] or 0) if ready else 0,
        )

    def _generate(self, row: Any) -> Any:
        with self._generate_lock:
            current = self._row(row["token"])
            if current["parts"] is not None:
                return current
            try:
                parts, rows = self._files(row)
            except Exception:  # a bug: the report fails, the traceback is logged
                log.exception("report %s could not be generated", row["seq"])
                with self.store.db.write() as conn:
                    conn.execute("UPDATE reports SET failed = 1 WHERE seq = ?", (row["seq"],))
                return self._row(row["token"])
            with self.store.db.write() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO report_files VALUES (?,?,?)",
                    [(row["file_id"], i, data) for i, data in enumerate(parts)],
                )
                conn.execute(
                    "UPDATE reports SET parts = ?, rows = ? WHERE seq = ?",
                    (len(parts), rows, row["seq"]),
                )
            return self._row(row["token"])

    def _files(self, row: Any) -> tuple[list[bytes], int]:
        from dmtools.sandbox.state.reporting.table import build_frame, csv_parts

        owners = tuple(json.loads(row["owners"]))
        videos = self.videos(owners)
        usernames = {o: (self.store.user(o) or {}).get("username", o) for o in owners}
        query = ReportQuery.from_json(row["query"])
        for slug in {query.filter("videoOwnerChannelSlug"), query.filter("channelSlug")} - {None}:
            videos = [v for v in videos if usernames.get(v["owner"]) == slug]
        frame = build_frame(query, videos, usernames, seed=self.seed(), now=row["created_at"])
        return csv_parts(frame, self.store.settings.report_file_rows), len(frame)

    def videos(self, owners: Sequence[str]) -> list[dict[str, Any]]:
        """Every video of the given owners, oldest first."""
        if not owners:
            return []
        _, videos = self.store.list_videos(
            VideoFilter(owners=tuple(owners), sort="old"), Visibility.ALL, Paging(1, 1 << 40)
        )
        return videos

    def seed(self) -> int:
        """The seed of the sandbox's demo data (it seeds the audience too)."""
        with self.store.db.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'seed'").fetchone()
        return int(json.loads(row[0])[0]) if row is not None else 0

    # -- files -------------------------------------------------------------------------
    def file(self, file_id: str, part: int) -> bytes | None:
        """A CSV file of a finished, unexpired report, or None."""
        with self.store.db.read() as conn:
            row = conn.execute("SELECT * FROM reports WHERE file_id = ?", (file_id,)).fetchone()
            if row is None or self._status(row, self.clock.now()) != "FINISHED":
                return None
            data = conn.execute(
                "SELECT data FROM report_files WHERE file_id = ? AND part = ?", (file_id, part)
            ).fetchone()
        return None if data is None else bytes(data[0])

    def _drop_files(self, file_id: str) -> None:
        with self.store.db.write() as conn:
            conn.execute("DELETE FROM report_files WHERE file_id = ?", (file_id,))

    # -- admin -------------------------------------------------------------------------
    def force(self, token: str, status: str) -> str:
        """Make a report ``FAILED`` or ``EXPIRED`` now; its new status.

        Raises:
            ValueError: another status; LookupError: an unknown token.
        """
        if status not in ("FAILED", "EXPIRED"):
            raise ValueError("a report can be made FAILED or EXPIRED")
        now = self.clock.now()
        with self.store.db.write() as conn:
            if status == "FAILED":
                sql = "UPDATE reports SET failed = 1, ready_at = min(ready_at, ?) WHERE token = ?"
            else:
                sql = "UPDATE reports SET expires_at = min(expires_at, ?) WHERE token = ?"
            if conn.execute(sql, (now, token)).rowcount == 0:
                raise LookupError("no report has this token")
        return self.get(token, None).status

    def list(self) -> list[dict[str, Any]]:
        """Every report (admin view): token, client, status, dates, files, rows."""
        with self.store.db.read() as conn:
            tokens = [r[0] for r in conn.execute("SELECT token FROM reports ORDER BY seq")]
        views = [self.get(t, None) for t in tokens]
        return [
            {"token": v.token, "status": v.status, "created_at": v.created_at,
             "parts": v.parts, "rows": v.rows}
            for v in views
        ]  # fmt: skip
