"""SQLite access for the sandbox: schema, connections, read and write transactions.

In memory (the default) one connection serves every thread behind a lock. With a file, a
small pool of connections runs in WAL mode with ``busy_timeout`` and every write transaction
starts with ``BEGIN IMMEDIATE``, so concurrent writers wait instead of failing with
``SQLITE_BUSY`` and state survives a restart.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE, screenname TEXT,
    password TEXT, email TEXT, country TEXT, language TEXT, created_time INTEGER,
    verified INTEGER, partner INTEGER, org TEXT);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, kind TEXT NOT NULL,
    redirect_uri TEXT, org TEXT, channels TEXT NOT NULL DEFAULT '[]', name TEXT,
    position INTEGER);
CREATE TABLE IF NOT EXISTS videos (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT, description TEXT,
    tags TEXT NOT NULL DEFAULT '[]', channel TEXT, language TEXT, country TEXT,
    published INTEGER NOT NULL, private INTEGER NOT NULL, is_created_for_kids INTEGER,
    explicit INTEGER NOT NULL, allow_embed INTEGER NOT NULL, status TEXT,
    created_time INTEGER NOT NULL, updated_time INTEGER, duration INTEGER,
    views_total INTEGER NOT NULL DEFAULT 0, views_last_day INTEGER NOT NULL DEFAULT 0,
    views_last_week INTEGER NOT NULL DEFAULT 0, views_last_month INTEGER NOT NULL DEFAULT 0,
    likes_total INTEGER NOT NULL DEFAULT 0, comments_total INTEGER NOT NULL DEFAULT 0,
    bookmarks_total INTEGER NOT NULL DEFAULT 0, private_id TEXT, password TEXT,
    mode TEXT, source_url TEXT, version INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS videos_owner_created ON videos (owner, created_time, id);
CREATE INDEX IF NOT EXISTS videos_created ON videos (created_time, id);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL, user_id TEXT,
    scope TEXT NOT NULL, expires_at REAL, family TEXT NOT NULL, grant_type TEXT,
    revoked INTEGER NOT NULL DEFAULT 0, used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS tokens_family ON tokens (family);
CREATE TABLE IF NOT EXISTS codes (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    user_id TEXT NOT NULL, scope TEXT NOT NULL, challenge TEXT, expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0, family TEXT);
CREATE TABLE IF NOT EXISTS uploads (
    url TEXT PRIMARY KEY, name TEXT, size INTEGER, hash TEXT, duration INTEGER, created REAL);
CREATE TABLE IF NOT EXISTS key_permissions (client_id TEXT PRIMARY KEY, scopes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS upload_ledger (
    owner TEXT NOT NULL, video_id TEXT NOT NULL, kind TEXT NOT NULL, time REAL NOT NULL,
    duration INTEGER, source TEXT);
CREATE INDEX IF NOT EXISTS upload_ledger_owner ON upload_ledger (owner, time);
CREATE INDEX IF NOT EXISTS upload_ledger_video ON upload_ledger (video_id, time);
CREATE INDEX IF NOT EXISTS upload_ledger_source ON upload_ledger (source);
"""

#: Video columns added after the first schema (API v2 fields without a legacy twin): added
#: to a database file made by an earlier version when it is opened.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("videos", "hashtags", "TEXT NOT NULL DEFAULT '[]'"),
    ("videos", "ai_subtitles", "TEXT NOT NULL DEFAULT '[]'"),
    ("videos", "enable_comments", "INTEGER NOT NULL DEFAULT 1"),
    ("videos", "is_ai_altered", "INTEGER NOT NULL DEFAULT 0"),
    ("videos", "enable_ai_chapter_generation", "INTEGER NOT NULL DEFAULT 0"),
    ("videos", "can_be_stitched", "INTEGER NOT NULL DEFAULT 0"),
    ("videos", "is_exclusive_content", "INTEGER NOT NULL DEFAULT 0"),
    ("videos", "has_paid_partnership", "INTEGER NOT NULL DEFAULT 0"),
    ("videos", "engagement_message", "TEXT"),
    ("videos", "published_at", "INTEGER"),
    ("videos", "geo_mode", "TEXT"),
    ("videos", "geo_countries", "TEXT NOT NULL DEFAULT '[]'"),
)


def _add_columns(conn: sqlite3.Connection) -> None:
    """Add the :data:`ADDED_COLUMNS` a table does not have yet."""
    for table, name, ddl in ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if name not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")


def _connect(target: str, uri: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        target, uri=uri, check_same_thread=False, isolation_level=None, timeout=10.0
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


class Database:
    """Connections to the sandbox's SQLite database.

    ``read()`` lends a connection for queries; ``write()`` wraps the block in a
    ``BEGIN IMMEDIATE`` transaction, committed on success and rolled back on error.
    :meth:`stamp` tells whether anything may have been committed since an earlier read.
    """

    def __init__(self, path: str | None = None, pool_size: int = 4) -> None:
        self.path = path
        self._closed = False
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._size = 1 if path is None else max(1, pool_size)
        self._writes = 0  # committed write transactions of this process
        first = self._new()
        if path is not None:
            first.execute("PRAGMA journal_mode = WAL")
        first.executescript(SCHEMA)
        _add_columns(first)
        self._pool.put(first)

    def _new(self) -> sqlite3.Connection:
        conn = _connect(":memory:" if self.path is None else self.path, uri=False)
        if self.path is not None:
            conn.execute("PRAGMA synchronous = NORMAL")
        self._all.append(conn)
        return conn

    def _acquire(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the sandbox database is closed")
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._all) < self._size:
                return self._new()
        return self._pool.get(timeout=30)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        conn = self._acquire()
        try:
            yield conn
        finally:
            self._pool.put(conn)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        conn = self._acquire()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            with self._lock:  # after the commit: a stamp taken before it is never newer
                self._writes += 1
        finally:
            self._pool.put(conn)

    def stamp(self, conn: sqlite3.Connection) -> tuple[int, ...]:
        """What identifies the committed state that reads on ``conn`` see from now on.

        Equal stamps taken on the same connection mean nothing was committed in between, by
        this process (its write count) or, for a file, by another one (SQLite's
        ``data_version``); a result computed after a stamp was taken may be kept under it.
        """
        if self.path is None:  # one private connection: only this process writes
            return (self._writes,)
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        return (self._writes, id(conn), int(version))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._all:
                conn.close()
            self._all.clear()
