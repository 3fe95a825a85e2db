"""The sandbox's state: users, API keys, videos, uploads, settings and the logs (no HTTP).

One store serves every API dialect. It owns every SQL statement on its tables (list queries
are compiled by :mod:`~dmtools.sandbox.state.queries`); callers pass data, never SQL.

Every committed write made by a client (``edit``, ``delete``, ``create``) is appended to the
commit log; out-of-band changes made through the admin API are not (they stand for a third
party), but they do bump the video's ``version`` like any write.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from dmtools.sandbox.state import ledger
from dmtools.sandbox.state import seed as seedmod
from dmtools.sandbox.state.clock import Clock
from dmtools.sandbox.state.db import Database
from dmtools.sandbox.state.errors import StaleVersion
from dmtools.sandbox.state.logs import RingLog
from dmtools.sandbox.state.queries import (
    PUBLIC_SQL,
    ListCounts,
    Paging,
    VideoFilter,
    Visibility,
    compile_query,
    page_rows,
)
from dmtools.sandbox.state.settings import Settings
from dmtools.sandbox.state.videos import (
    DEFAULTS,
    VIDEO_COLUMNS,
    check_columns,
    decoder,
    from_row,
    select_columns,
    to_column,
)


class Store:
    """State and rules of one sandbox (thread-safe)."""

    def __init__(self, db_path: str | None = None, *, settings: Settings | None = None) -> None:
        self.db = Database(db_path)
        self.settings = settings or Settings()
        self.clock = Clock(self.db)  #: the sandbox clock (reports, audience "now")
        self.commits = RingLog(("time", "kind", "video_id", "fields", "client_id"))
        self.requests = RingLog(("time", "method", "path", "query_keys", "status", "client_id"))
        self._user_cache: dict[str, dict[str, Any]] = {}
        self._cache_lock = threading.Lock()
        self._counts = ListCounts()

    def close(self) -> None:
        self.db.close()

    # -- seeding -----------------------------------------------------------------------
    def seed_if_empty(self, seed: int, videos: int, archive: int | None = None) -> bool:
        """Insert the demo data unless the database already holds some; True if seeded.

        ``archive`` is the size of the organisation's archive channel (None: the default).
        """
        with self.db.read() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'seed'").fetchone():
                return False
        data = seedmod.build(seed, videos, archive)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO meta VALUES ('seed', ?)", (json.dumps([seed, videos, archive]),)
            )
            conn.executemany(
                "INSERT INTO users VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        u.id,
                        u.username,
                        u.screenname,
                        u.password,
                        u.email,
                        u.country,
                        u.language,
                        u.created_time,
                        int(u.verified),
                        int(u.partner),
                        u.org,
                    )
                    for u in data.users
                ],
            )
            conn.executemany(
                "INSERT INTO clients VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        c.client_id,
                        c.client_secret,
                        c.kind,
                        c.redirect_uri,
                        c.org,
                        json.dumps(list(c.channels)),
                        c.name,
                        i,
                    )
                    for i, c in enumerate(data.clients)
                ],
            )
            conn.executemany(
                "INSERT INTO key_permissions VALUES (?,?)",
                [
                    (c.client_id, " ".join(c.permissions))
                    for c in data.clients
                    if c.permissions is not None
                ],
            )
            self._insert_videos(conn, data.videos)
        return True

    @staticmethod
    def _insert_videos(conn: sqlite3.Connection, videos: Iterable[Mapping[str, Any]]) -> None:
        columns = [c for c in VIDEO_COLUMNS if c != "version"]
        sql = f"INSERT INTO videos ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})"
        conn.executemany(
            sql, [[to_column(c, v.get(c, DEFAULTS.get(c))) for c in columns] for v in videos]
        )

    def credentials(self) -> dict[str, Any]:
        """The demo keys and user, as ``Credentials.to_json`` lays them out (plus extras)."""
        with self.db.read() as conn:
            clients = [dict(r) for r in conn.execute("SELECT * FROM clients ORDER BY position")]
            demo = dict(conn.execute("SELECT * FROM users WHERE username = 'demo'").fetchone())
            users = [dict(r) for r in conn.execute("SELECT id, username, password FROM users")]
        public, private = clients[0], clients[1]
        return {
            "public_key": {
                "client_id": public["client_id"],
                "client_secret": public["client_secret"],
                "redirect_uri": public["redirect_uri"],
            },
            "private_key": _private_key(private),
            "user": {"id": demo["id"], "username": demo["username"], "password": demo["password"]},
            "other_public_keys": [
                {
                    "client_id": c["client_id"],
                    "client_secret": c["client_secret"],
                    "redirect_uri": c["redirect_uri"],
                }
                for c in clients[2:]
                if c["kind"] == "public"
            ],
            "other_private_keys": [_private_key(c) for c in clients[2:] if c["kind"] == "private"],
            "users": users,
        }

    # -- users and clients -------------------------------------------------------------
    def user(self, id_or_username: str) -> dict[str, Any] | None:
        key = id_or_username.lower()
        with self._cache_lock:
            cached = self._user_cache.get(key)
        if cached is not None:
            return cached
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM users WHERE id = ? OR username = ?", (id_or_username, id_or_username)
            ).fetchone()
        if row is None:
            return None
        user = dict(row)
        user["verified"], user["partner"] = bool(user["verified"]), bool(user["partner"])
        with self._cache_lock:
            self._user_cache[key] = user
        return user

    def check_password(self, username: str, password: str) -> dict[str, Any] | None:
        user = self.user(username)
        if user is None or not password or user["password"] != password:
            return None
        return user

    def client(self, client_id: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM clients WHERE client_id = ?", (client_id,)).fetchone()
        if row is None:
            return None
        client = dict(row)
        client["channels"] = json.loads(client["channels"])
        return client

    def user_stats(self, user_id: str) -> tuple[int, int]:
        """(videos_total, views_total) of a user's public published videos."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT count(*), coalesce(sum(views_total), 0) FROM videos "
                f"WHERE owner = ? AND {PUBLIC_SQL}",
                (user_id,),
            ).fetchone()
        return int(row[0]), int(row[1])

    # -- videos ------------------------------------------------------------------------
    def video(self, video_id: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM videos WHERE id = ?", (video_id,)).fetchone()
        return None if row is None else from_row(row)

    def video_by_private_id(self, private_id: str) -> dict[str, Any] | None:
        """The video whose private link id (``k...``) is ``private_id``, or None."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM videos WHERE private_id = ?", (private_id,)
            ).fetchone()
        return None if row is None else from_row(row)

    def list_videos(
        self,
        filter: VideoFilter,
        visibility: Visibility,
        paging: Paging,
        columns: Iterable[str] | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total matches, one page of videos) of a list query.

        Usernames in ``filter.owners`` are resolved to user ids. ``columns`` (None: all)
        are the only ones each video of the page holds, decoded as :func:`from_row` does.
        """
        if filter.owners:
            owners = tuple((self.user(o) or {}).get("id") or o for o in filter.owners)
            filter = dataclasses.replace(filter, owners=owners)
        where, args, order = compile_query(filter, visibility)
        names = VIDEO_COLUMNS if columns is None else select_columns(frozenset(columns))
        with self.db.read() as conn:
            total = self._counts.total(self.db, conn, where, args)
            rows = page_rows(conn, names, (where, args, order), paging)
        return total, list(map(decoder(names), rows))

    def _log_commit(
        self, kind: str, video_id: str, written: Mapping[str, Any], client_id: str | None
    ) -> None:
        self.commits.append(
            {
                "time": time.time(),
                "kind": kind,
                "video_id": video_id,
                "fields": dict(written),
                "client_id": client_id,
            }
        )

    def create_video(
        self, record: Mapping[str, Any], written: Mapping[str, Any], client_id: str | None
    ) -> dict[str, Any]:
        """Insert a full video record; log ``written`` (the client's fields) as a create.

        The create goes into the upload ledger in the same transaction.
        """
        with self.db.write() as conn:
            self._insert_videos(conn, [record])
            ledger.record(
                conn,
                str(record["owner"]),
                str(record["id"]),
                "create",
                record.get("duration"),
                record.get("source_url"),
            )
        self._log_commit("create", str(record["id"]), written, client_id)
        video = self.video(str(record["id"]))
        assert video is not None
        return video

    def update_video(
        self,
        video_id: str,
        changes: Mapping[str, Any],
        *,
        client_id: str | None = None,
        commit: bool = True,
        if_version: int | None = None,
        written: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Write ``changes`` (stored column names); None if the video does not exist.

        ``commit`` False is an out-of-band change: not in the commit log. With ``if_version``
        the write happens only at that version (else :class:`StaleVersion`). ``written`` is
        what the commit log records (the client's own field names; default: the changes,
        with the source URL as ``url``). A client's new source goes into the upload ledger.
        """
        check_columns(changes)
        values = {name: to_column(name, value) for name, value in changes.items()}
        if "published" in changes and "status" not in changes:
            values["status"] = None  # recomputed below
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT owner, status, published, version FROM videos WHERE id = ?", (video_id,)
            ).fetchone()
            if row is None:
                return None
            if if_version is not None and row["version"] != if_version:
                raise StaleVersion(row["version"])
            if "status" in values and values["status"] is None:
                published = bool(values["published"])
                values["status"] = (
                    ("published" if published else "ready")
                    if row["status"] in ("published", "ready")
                    else row["status"]
                )
            values.setdefault("updated_time", int(time.time()))
            assignments = ", ".join(f"{name} = ?" for name in values)
            conn.execute(
                f"UPDATE videos SET {assignments}, version = version + 1 WHERE id = ?",
                [*values.values(), video_id],
            )
            if commit and changes.get("source_url"):
                ledger.record(conn, row["owner"], video_id, "replace", None, changes["source_url"])
        if commit:  # logged with API names (the source URL is written as ``url``)
            if written is None:
                written = {("url" if k == "source_url" else k): v for k, v in changes.items()}
            self._log_commit("edit", video_id, written, client_id)
        return self.video(video_id)

    def delete_video(
        self,
        video_id: str,
        *,
        client_id: str | None = None,
        commit: bool = True,
        if_version: int | None = None,
    ) -> bool:
        with self.db.write() as conn:
            if if_version is not None:
                row = conn.execute(
                    "SELECT version FROM videos WHERE id = ?", (video_id,)
                ).fetchone()
                if row is not None and row["version"] != if_version:
                    raise StaleVersion(row["version"])
            deleted = conn.execute("DELETE FROM videos WHERE id = ?", (video_id,)).rowcount > 0
        if deleted and commit:
            self._log_commit("delete", video_id, {}, client_id)
        return deleted

    def new_video_id(self) -> str:
        rng = random.Random()
        while True:
            xid = seedmod.IdMaker(rng)()
            if self.video(xid) is None:
                return xid

    def add_videos(self, n: int, owner: str | None = None) -> list[str]:
        """Add ``n`` realistic public, published videos out of band; their ids.

        They are created within the last hour; the same database state gives the same videos.
        """
        if owner is not None and not isinstance(owner, str):
            raise ValueError(f"owner must be a user id or username, got {owner!r}")
        owner_user = self.user(owner or "demo")
        if owner_user is None:
            raise ValueError(f"unknown user {owner!r}")
        with self.db.read() as conn:
            taken = {r[0] for r in conn.execute("SELECT id FROM videos")}
        rng = random.Random(f"dmtools-sandbox-add:{len(taken)}:{owner_user['id']}:{n}")
        maker = seedmod.IdMaker(rng, taken)
        now = int(time.time())
        records = [
            seedmod.make_video(rng, maker(), owner_user["id"], now - rng.randrange(0, 3600))
            for _ in range(n)
        ]
        for record in records:
            record.update(private=False, published=True, status="published")
        with self.db.write() as conn:
            self._insert_videos(conn, records)
        return [str(r["id"]) for r in records]

    # -- uploads -----------------------------------------------------------------------
    def register_upload(self, url: str, name: str, size: int, digest: str, duration: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?,?,?,?,?,?)",
                (url, name, size, digest, duration, time.time()),
            )

    def upload(self, url: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM uploads WHERE url = ?", (url,)).fetchone()
        return None if row is None else dict(row)


def _private_key(client: Mapping[str, Any]) -> dict[str, Any]:
    """A private key as the credentials list it (its channels are its API v2 profiles)."""
    return {
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "channels": json.loads(client["channels"]),
    }
