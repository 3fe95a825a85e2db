"""The sandbox's state: users, API keys, videos, uploads, settings and the logs (no HTTP).

Every committed write made by a client (``edit``, ``delete``, ``create``) is appended to the
commit log; out-of-band changes made through the admin API are not (they stand for a third
party), but they do bump the video's ``version`` like any write.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from dmtools.sandbox import seed as seedmod
from dmtools.sandbox.db import Database
from dmtools.schema import LIMITS_PARTNER, LIMITS_PUBLIC, LIST_CEILING, FieldLimits

LOG_SIZE = 100_000
#: Distinct strings and tuples a RingLog shares between its entries before starting afresh.
SHARED_VALUES = 4096

#: Stored video columns holding booleans and JSON arrays.
BOOL_COLUMNS = ("published", "private", "is_created_for_kids", "explicit", "allow_embed")
VIDEO_COLUMNS = (
    "id",
    "owner",
    "title",
    "description",
    "tags",
    "channel",
    "language",
    "country",
    "published",
    "private",
    "is_created_for_kids",
    "explicit",
    "allow_embed",
    "status",
    "created_time",
    "updated_time",
    "duration",
    "views_total",
    "views_last_day",
    "views_last_week",
    "views_last_month",
    "likes_total",
    "comments_total",
    "bookmarks_total",
    "private_id",
    "password",
    "mode",
    "source_url",
    "version",
)
_DEFAULTS: dict[str, Any] = {
    "tags": [],
    "published": False,
    "private": False,
    "explicit": False,
    "allow_embed": True,
    "views_total": 0,
    "views_last_day": 0,
    "views_last_week": 0,
    "views_last_month": 0,
    "likes_total": 0,
    "comments_total": 0,
    "bookmarks_total": 0,
    "mode": "vod",
}


@dataclass
class Settings:
    """Behaviours the sources leave open; each can be switched at run time (admin API).

    Attributes:
        token_lifetime: ``expires_in`` of new access tokens, seconds.
        rotate_refresh_tokens: a refresh token works once; reusing it revokes its family.
        pkce_required: the consent page refuses requests without an S256 ``code_challenge``.
        strict_hosts: private-key tokens only work under ``/rest``, public-key tokens only
            outside it (as on the two real hosts).
        code_lifetime: seconds an authorization code stays valid.
        list_ceiling: results reachable per list query (``page * limit``).
        delete_body: ``"id"`` answers ``{"id": xid}`` to a delete, ``"empty"`` answers ``{}``.
        token_errors_as_200: token endpoint errors come with HTTP 200 (as some servers do).
        etag_mode: ``GET /video/<id>`` sends an ``ETag`` (the video's version) and edits and
            deletes with a stale ``If-Match`` get 412 ``precondition_failed``.
        title_max, description_max, tags_max, tag_length: public-key field limits; partner
            keys get ``partner_title_max`` and ``partner_description_max``.
    """

    token_lifetime: int = 36000
    rotate_refresh_tokens: bool = False
    pkce_required: bool = False
    strict_hosts: bool = True
    code_lifetime: int = 600
    list_ceiling: int = LIST_CEILING
    delete_body: str = "id"
    token_errors_as_200: bool = False
    etag_mode: bool = False
    title_max: int = LIMITS_PUBLIC.title
    description_max: int = LIMITS_PUBLIC.description
    partner_title_max: int = LIMITS_PARTNER.title
    partner_description_max: int = LIMITS_PARTNER.description
    tags_max: int = LIMITS_PUBLIC.tags
    tag_length: int = LIMITS_PUBLIC.tag_length

    def limits(self, partner: bool) -> FieldLimits:
        if partner:
            return FieldLimits(
                self.partner_title_max, self.partner_description_max, self.tags_max, self.tag_length
            )
        return FieldLimits(self.title_max, self.description_max, self.tags_max, self.tag_length)

    def update(self, values: Mapping[str, Any]) -> None:
        """Set the named settings, checking names and types."""
        known = {f.name: f for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            current = getattr(self, name)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"setting {name!r} takes true or false")
            elif isinstance(current, int):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"setting {name!r} takes a non-negative integer")
            elif name == "delete_body" and value not in ("id", "empty"):
                raise ValueError("setting 'delete_body' is 'id' or 'empty'")
        for name, value in values.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class StaleVersion(Exception):
    """A conditional write found another version of the video than expected."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the video is at version {current}")
        self.current = current


class RingLog:
    """A bounded, thread-safe log of entries numbered by ``seq``.

    Entries are kept as tuples in the order of ``keys`` (lists as tuples) to stay small, and
    equal strings and tuples (methods, paths, query keys, client ids) are stored once: a full
    log of 100,000 request entries takes about 20 MB.
    """

    def __init__(self, keys: Sequence[str], size: int = LOG_SIZE) -> None:
        self.keys = ("seq", *keys)
        self._items: deque[tuple[Any, ...]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0
        self._shared: dict[Any, Any] = {}

    def _share(self, value: Any) -> Any:
        """One stored copy of equal strings and tuples (bounded). Call with _lock held."""
        if isinstance(value, list):
            value = tuple(self._share(v) for v in value)
        if not isinstance(value, str | tuple):
            return value
        try:
            shared = self._shared.get(value)
        except TypeError:  # a tuple holding something unhashable
            return value
        if shared is None:
            if len(self._shared) >= SHARED_VALUES:
                self._shared.clear()
            self._shared[value] = shared = value
        return shared

    def append(self, entry: Mapping[str, Any]) -> None:
        with self._lock:
            values = tuple(self._share(entry.get(k)) for k in self.keys[1:])
            self._seq += 1
            self._items.append((self._seq, *values))

    def items(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            rows = [row for row in self._items if row[0] > since]
        return [
            {k: list(v) if isinstance(v, tuple) else v for k, v in zip(self.keys, row, strict=True)}
            for row in rows
        ]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def video_from_row(row: sqlite3.Row) -> dict[str, Any]:
    video = dict(row)
    video["tags"] = json.loads(video["tags"] or "[]")
    for name in BOOL_COLUMNS:
        if video[name] is not None:
            video[name] = bool(video[name])
    return video


def _to_column(name: str, value: Any) -> Any:
    if name == "tags":
        return json.dumps(list(value or []), ensure_ascii=False)
    if name in BOOL_COLUMNS and value is not None:
        return int(bool(value))
    return value


class Store:
    """State and rules of one sandbox (thread-safe)."""

    def __init__(self, db_path: str | None = None, *, settings: Settings | None = None) -> None:
        self.db = Database(db_path)
        self.settings = settings or Settings()
        self.commits = RingLog(("time", "kind", "video_id", "fields", "client_id"))
        self.requests = RingLog(("time", "method", "path", "query_keys", "status", "client_id"))
        self._user_cache: dict[str, dict[str, Any]] = {}
        self._cache_lock = threading.Lock()

    def close(self) -> None:
        self.db.close()

    # -- seeding -----------------------------------------------------------------------
    def seed_if_empty(self, seed: int, videos: int) -> bool:
        """Insert the demo data unless the database already holds some; True if seeded."""
        with self.db.read() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'seed'").fetchone():
                return False
        data = seedmod.build(seed, videos)
        with self.db.write() as conn:
            conn.execute("INSERT INTO meta VALUES ('seed', ?)", (json.dumps([seed, videos]),))
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
            self._insert_videos(conn, data.videos)
        return True

    @staticmethod
    def _insert_videos(conn: sqlite3.Connection, videos: Iterable[Mapping[str, Any]]) -> None:
        columns = [c for c in VIDEO_COLUMNS if c != "version"]
        sql = f"INSERT INTO videos ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})"
        conn.executemany(
            sql, [[_to_column(c, v.get(c, _DEFAULTS.get(c))) for c in columns] for v in videos]
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
            "private_key": {
                "client_id": private["client_id"],
                "client_secret": private["client_secret"],
                "channels": json.loads(private["channels"]),
            },
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
                "WHERE owner = ? AND private = 0 AND published = 1",
                (user_id,),
            ).fetchone()
        return int(row[0]), int(row[1])

    # -- videos ------------------------------------------------------------------------
    def video(self, video_id: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM videos WHERE id = ?", (video_id,)).fetchone()
        return None if row is None else video_from_row(row)

    def query_videos(
        self, where: str, args: Sequence[Any], order: str, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total matches, one page of videos) for a WHERE clause built by ``queries``."""
        with self.db.read() as conn:
            total = conn.execute(f"SELECT count(*) FROM videos WHERE {where}", args).fetchone()[0]
            rows = conn.execute(
                f"SELECT * FROM videos WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return int(total), [video_from_row(r) for r in rows]

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
        """Insert a full video record; log ``written`` (the client's fields) as a create."""
        with self.db.write() as conn:
            self._insert_videos(conn, [record])
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
    ) -> dict[str, Any] | None:
        """Write ``changes`` (stored column names); None if the video does not exist.

        ``commit`` False is an out-of-band change: not in the commit log. With ``if_version``
        the write happens only at that version (else :class:`StaleVersion`).
        """
        unknown = [
            name for name in changes if name not in VIDEO_COLUMNS or name in ("id", "version")
        ]
        if unknown:
            raise ValueError(f"unknown video column(s): {', '.join(unknown)}")
        values = {name: _to_column(name, value) for name, value in changes.items()}
        if "published" in changes and "status" not in changes:
            values["status"] = None  # recomputed below
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT status, published, version FROM videos WHERE id = ?", (video_id,)
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
        if commit:  # logged with API names (the source URL is written as ``url``)
            self._log_commit(
                "edit",
                video_id,
                {("url" if k == "source_url" else k): v for k, v in changes.items()},
                client_id,
            )
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
