"""Video list queries as data, and the one place they become SQL.

An API dialect parses its request into a :class:`VideoFilter` and a :class:`Paging` (refusing
bad parameters in its own error format); :meth:`Store.list_videos` compiles them here. Every
SQL fragment of a list query lives in this module, including the public-visibility rule.

Time windows: ``created_after`` is inclusive and ``created_before`` exclusive
(``created_after <= created_time < created_before``, unix seconds), so consecutive windows
``[a, b)``, ``[b, c)`` neither overlap nor lose videos sharing a timestamp. Sorts break ties
on the video id, so pages are stable. Short lists bind one parameter per item; long ones
are bound as one JSON parameter, so a filter of any length fits SQLite's limit on bound
parameters (and a search word of any length, LIKE's limit on patterns).

Example:
    >>> where, args, order = compile_query(
    ...     VideoFilter(owner="x1", words=("cat",)), Visibility.PUBLIC
    ... )
    >>> args, order
    (['x1', '%cat%', '%cat%', '%cat%'], 'created_time DESC, id DESC')
"""

from __future__ import annotations

import enum
import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dmtools.sandbox.state.db import Database

#: The public-visibility rule: what anyone may see.
PUBLIC_SQL = "private = 0 AND published = 1"

#: Sort name -> ORDER BY clause.
SORTS: dict[str, str] = {
    "recent": "created_time DESC, id DESC",
    "old": "created_time ASC, id ASC",
    "visited": "views_total DESC, id ASC",
    "visited-hour": "views_last_day DESC, id ASC",
    "visited-today": "views_last_day DESC, id ASC",
    "visited-week": "views_last_week DESC, id ASC",
    "visited-month": "views_last_month DESC, id ASC",
    "least-visited": "views_total ASC, id ASC",
    "trending": "views_last_day DESC, views_last_week DESC, id ASC",
    "relevance": "views_total DESC, id ASC",
    "random": "(created_time * 2654435761) % 1000003, id ASC",
    "id-asc": "id ASC",
}

#: Flag name -> condition.
FLAGS: dict[str, str] = {
    "private": "private = 1",
    "unpublished": "published = 0",
    "is_created_for_kids": "is_created_for_kids = 1",
    "explicit": "explicit = 1",
    "password_protected": "password IS NOT NULL",
    "featured": "0",
    "hd": "1",
    "live": "mode = 'live'",
    "no_live": "mode <> 'live'",
    "verified": "owner IN (SELECT id FROM users WHERE verified = 1)",
    "partner": "owner IN (SELECT id FROM users WHERE partner = 1)",
}

#: The three visibilities of API v2 (private wins over a password).
PRIVACY: dict[str, str] = {
    "public": "private = 0 AND password IS NULL",
    "private": "private = 1",
    "password": "private = 0 AND password IS NOT NULL",
}

#: Columns an ``order_by`` may sort on.
ORDER_COLUMNS = frozenset({"created_time", "title"})

#: Properties a filter may require to equal a value (booleans, channel, country).
EQUALS_COLUMNS = frozenset(
    {"private", "published", "is_created_for_kids", "explicit", "channel", "country"}
)

#: Up to this many items a list filter binds one parameter per item (the fastest plan);
#: beyond, the whole list is one JSON parameter, so any length fits SQLite's parameter limit.
PER_ITEM_MAX = 64
#: Longest search word matched with LIKE (its pattern limit is 50,000 bytes); longer: instr.
LIKE_MAX = 10_000

#: A search word is in the title, the description or the tags (ASCII case-insensitive).
_WORD = "title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' OR tags LIKE ? ESCAPE '\\'"
#: Every search word of a JSON list is there (same match, no pattern length limit).
_WORDS = (
    "NOT EXISTS (SELECT 1 FROM json_each(?) AS w WHERE NOT ("
    "instr(lower(coalesce(title, '')), lower(w.value)) > 0 "
    "OR instr(lower(coalesce(description, '')), lower(w.value)) > 0 "
    "OR instr(lower(tags), lower(w.value)) > 0))"
)
#: The video carries a tag (case-insensitive).
_TAG = "EXISTS (SELECT 1 FROM json_each(videos.tags) AS v WHERE lower(v.value) = lower(?))"
#: The video carries every tag of a JSON list.
_TAGS = (
    "NOT EXISTS (SELECT 1 FROM json_each(?) AS t WHERE NOT EXISTS ("
    "SELECT 1 FROM json_each(videos.tags) AS v WHERE lower(v.value) = lower(t.value)))"
)
_IN_MAX = 500


class Visibility(enum.Enum):
    """Which videos a list may show."""

    PUBLIC = "public"  #: public, published videos only
    ALL = "all"  #: every video (what an owner sees of their own channel)


@dataclass(frozen=True)
class Paging:
    """One page: ``page`` (1-based) of ``limit`` items."""

    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class VideoFilter:
    """What a video list asks for (each field None or empty: no condition).

    Attributes:
        owner: the user whose channel is listed.
        equals: ``(property, value)`` pairs from :data:`EQUALS_COLUMNS`, all required.
        ids, exclude_ids: video ids to keep or to leave out.
        owners: owner ids or usernames (usernames are resolved by the store).
        languages: language codes.
        words: search words, each found in the title, the description or the tags.
        tags: tags the video must all carry (case-insensitive).
        created_after, created_before: unix seconds, ``[after, before)``.
        longer_than, shorter_than: duration bounds in seconds (exclusive).
        flags: names from :data:`FLAGS`, all required.
        sort: a name from :data:`SORTS`.
        privacy: a visibility from :data:`PRIVACY` (public, private, password).
        order_by: ``(column, descending)`` pairs from :data:`ORDER_COLUMNS`, replacing
            ``sort``; ties are broken by the video id, in the direction of the last pair.
    """

    owner: str | None = None
    equals: tuple[tuple[str, Any], ...] = ()
    ids: tuple[str, ...] | None = None
    exclude_ids: tuple[str, ...] | None = None
    owners: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    created_after: int | None = None
    created_before: int | None = None
    longer_than: float | None = None
    shorter_than: float | None = None
    flags: tuple[str, ...] = ()
    sort: str = "recent"
    privacy: str | None = None
    order_by: tuple[tuple[str, bool], ...] = ()


def _in(column: str, values: tuple[str, ...], negate: bool = False) -> tuple[str, list[Any]]:
    keyword = "NOT IN" if negate else "IN"
    if len(values) <= _IN_MAX:
        return f"{column} {keyword} ({','.join('?' * len(values)) or 'NULL'})", list(values)
    return f"{column} {keyword} (SELECT value FROM json_each(?))", [json.dumps(list(values))]


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _words(words: tuple[str, ...]) -> list[tuple[str, list[Any]]]:
    unique = tuple(dict.fromkeys(words))
    if len(unique) <= PER_ITEM_MAX and all(len(w) <= LIKE_MAX for w in unique):
        return [(_WORD, [_like(word)] * 3) for word in unique]
    return [(_WORDS, [json.dumps(list(unique))])]


def _tags(tags: tuple[str, ...]) -> list[tuple[str, list[Any]]]:
    unique = tuple(dict.fromkeys(tags))
    if len(unique) <= PER_ITEM_MAX:
        return [(_TAG, [tag]) for tag in unique]
    return [(_TAGS, [json.dumps(list(unique))])]


def _conditions(f: VideoFilter, visibility: Visibility) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = []
    if f.owner is not None:
        out.append(("owner = ?", [f.owner]))
    if visibility is Visibility.PUBLIC:
        out.append((PUBLIC_SQL, []))
    for name, value in f.equals:
        if name not in EQUALS_COLUMNS:
            raise ValueError(f"no such video property: {name!r}")
        out.append((f"{name} = ?", [int(value) if isinstance(value, bool) else value]))
    for column, values, negate in (
        ("id", f.ids, False),
        ("id", f.exclude_ids, True),
        ("owner", f.owners, False),
        ("language", f.languages, False),
    ):
        if values is not None:
            out.append(_in(column, values, negate))
    out.extend(_words(f.words))
    out.extend(_tags(f.tags))
    for clause, value in (
        ("created_time >= ?", f.created_after),
        ("created_time < ?", f.created_before),
        ("duration > ?", f.longer_than),
        ("duration < ?", f.shorter_than),
    ):
        if value is not None:
            out.append((clause, [value]))
    out.extend((FLAGS[flag], []) for flag in f.flags)
    if f.privacy is not None:
        out.append((PRIVACY[f.privacy], []))
    return out


def _order(f: VideoFilter) -> str:
    if not f.order_by:
        return SORTS[f.sort]
    unknown = [column for column, _ in f.order_by if column not in ORDER_COLUMNS]
    if unknown:
        raise ValueError(f"no such sort column: {unknown[0]!r}")
    keys = [f"{column} {'DESC' if desc else 'ASC'}" for column, desc in f.order_by]
    return ", ".join([*keys, f"id {'DESC' if f.order_by[-1][1] else 'ASC'}"])


def compile_query(f: VideoFilter, visibility: Visibility) -> tuple[str, list[Any], str]:
    """``(where, args, order)`` of a filter: a WHERE clause, its parameters, an ORDER BY.

    Raises:
        ValueError: an unknown sort, flag, visibility or property (the API layer checks
            names first).
    """
    if f.sort not in SORTS:
        raise ValueError(f"no such sort: {f.sort!r}")
    if f.privacy is not None and f.privacy not in PRIVACY:
        raise ValueError(f"no such visibility: {f.privacy!r}")
    unknown = [flag for flag in f.flags if flag not in FLAGS]
    if unknown:
        raise ValueError(f"no such flag: {unknown[0]!r}")
    conditions = _conditions(f, visibility)
    where = " AND ".join(f"({clause})" for clause, _ in conditions) or "1"
    args = [arg for _, values in conditions for arg in values]
    return where, args, _order(f)


def page_rows(
    conn: sqlite3.Connection,
    columns: tuple[str, ...],
    query: tuple[str, list[Any], str],
    paging: Paging,
) -> list[tuple[Any, ...]]:
    """The ``columns`` of one page of a compiled query, as plain tuples (not decoded)."""
    where, args, order = query
    cursor = conn.cursor()
    cursor.row_factory = None
    sql = f"SELECT {','.join(columns)} FROM videos WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
    return cursor.execute(sql, [*args, paging.limit, paging.offset]).fetchall()


class ListCounts:
    """How many videos list queries match, each kept until anything is committed.

    A total is kept under the database's :meth:`~dmtools.sandbox.state.db.Database.stamp`
    taken before counting, so any write, delete or upload committed since (by this process
    or, for a file, by another) makes the next page count again.
    """

    def __init__(self, kept: int = 256) -> None:
        self._kept = kept
        self._totals: dict[tuple[str, tuple[Any, ...]], tuple[tuple[int, ...], int]] = {}

    def total(self, db: Database, conn: sqlite3.Connection, where: str, args: list[Any]) -> int:
        """The count of ``SELECT ... WHERE where`` with ``args``, read on ``conn``."""
        key = (where, tuple(args))
        stamp = db.stamp(conn)  # before counting: a commit after it changes the stamp
        cached = self._totals.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        total = int(conn.execute(f"SELECT count(*) FROM videos WHERE {where}", args).fetchone()[0])
        if len(self._totals) >= self._kept:
            self._totals.clear()
        self._totals[key] = (stamp, total)
        return total
