"""The sandbox clock: real time plus an offset that tests can move forward (no HTTP).

It dates what the sandbox *simulates*: report ages (``IN_PROGRESS`` until a delay has passed,
``EXPIRED`` after 48 hours) and the "now" of the synthetic audience data. Tokens and codes
keep real time, so moving the clock never logs a client out. The offset only grows (time
never goes back) and is kept in the ``meta`` table, so a sandbox restarted on the same
database file keeps its date.

Example:
    >>> clock = Clock()
    >>> before = clock.now()
    >>> clock.advance(3600)
    >>> clock.now() - before >= 3600
    True
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dmtools.sandbox.state.db import Database

#: The furthest a clock may be moved in one call, seconds (about 30 years).
MAX_ADVANCE = 10**9


class Clock:
    """Real time plus a forward-only offset, optionally persisted in ``db``'s ``meta`` table."""

    def __init__(self, db: Database | None = None) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._offset = 0.0
        if db is not None:
            with db.read() as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'clock_offset'").fetchone()
            if row is not None:
                self._offset = float(json.loads(row[0]))

    @property
    def offset(self) -> float:
        """Seconds the clock is ahead of real time."""
        return self._offset

    def now(self) -> float:
        """The sandbox's current time (Unix seconds)."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward; the new time.

        Raises:
            ValueError: a negative, non-finite or too large number.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError("advance takes a number of seconds")
        if not 0 <= seconds <= MAX_ADVANCE:
            raise ValueError(f"advance takes between 0 and {MAX_ADVANCE} seconds")
        with self._lock:
            self._offset += float(seconds)
            offset = self._offset
            if self._db is not None:
                with self._db.write() as conn:
                    conn.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('clock_offset', ?)",
                        (json.dumps(offset),),
                    )
        return self.now()
