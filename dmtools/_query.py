"""Video list queries: fields, filters and owners checked, then worded by the client's dialect.

Field names come from :mod:`dmtools.schema` (``id`` always in); filter values are checked and
turned into canonical values here (lists of text, unix seconds, booleans, numbers, text), with
no pandas; the dialect then encodes each for its wire and names the lists to read. Every
problem of a query is reported at once, in one :class:`~dmtools.errors.InputError`, before any
request.

Example:
    >>> query = build_query(client, owner="me", fields=["title"], filters={})   # doctest: +SKIP
    >>> query.paths, query.fields                                      # doctest: +SKIP
    (('/me/videos',), ('id', 'title'))
"""

from __future__ import annotations

import calendar
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from dmtools import schema
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    from dmtools.client import Client
    from dmtools.dialects import Dialect

__all__ = [
    "VideoQuery",
    "build_query",
    "organisation_channels",
    "organisation_profiles",
    "parse_seconds",
    "resolve",
]

T = TypeVar("T")
_INT_RE = re.compile(r"[+-]?\d+")
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Filters that bound creation times (the loader reads them as a window).
WINDOW = ("created_after", "created_before")


@dataclass(frozen=True)
class VideoQuery:
    """A checked list query: the lists to read and the wire parameters (no paging).

    Attributes:
        paths: one list path per list (several for an organisation's channels).
        fields: the canonical field names, ``id`` first.
        params: every wire parameter of a plain listing (fields, filters, sort, time bounds).
        filters: the wire parameters that select videos (no fields, sort or time bounds).
        window: ``created_after``/``created_before`` as unix seconds (None: unbounded).
    """

    paths: tuple[str, ...]
    fields: tuple[str, ...]
    params: dict[str, str]
    filters: dict[str, str] = field(default_factory=dict)
    window: tuple[int | None, int | None] = (None, None)


def _problem(name: str, reason: str) -> Problem:
    return Problem(row=None, column=name, reason=reason)


def resolve(dialect: Dialect, fields: Iterable[str] | str | None) -> tuple[str, ...]:
    """Checked canonical field names, ``id`` always in.

    Fields asked for by name must exist in the schema and in the dialect's API. The default
    set (None) and ``"all"`` keep the fields the API lacks: they are not asked for
    (:meth:`~dmtools.dialects.Dialect.fields_param` leaves them out), so records lack them and
    frames hold them as missing values, with the same columns on every API.

    Raises:
        InputError: naming every unknown field and every field asked for that the API lacks.
    """
    names = schema.resolve_fields(fields)
    everything = fields is None or (isinstance(fields, str) and fields.strip() == "all")
    missing = [] if everything else dialect.missing_fields(names)
    if missing:
        hints = {name: dialect.field_hint(name) for name in missing}
        notes = sorted({hint for hint in hints.values() if hint})
        raise InputError(
            f"the {dialect.name} API has no field(s) {', '.join(map(repr, missing))}"
            + "".join(f"; {note}" for note in notes),
            [
                _problem(
                    name,
                    f"not available through the {dialect.name} API"
                    + (f" ({hint})" if hint else ""),
                )
                for name, hint in hints.items()
            ],
        )
    return tuple(names)


def parse_seconds(value: Any) -> int:
    """Unix seconds (rounded to the second) from seconds, a datetime or ISO 8601 text.

    Datetimes without a zone are UTC. Raises ValueError with the reason.

    Example:
        >>> parse_seconds("2024-01-02T03:04:05Z"), parse_seconds(1700000000.4)
        (1704164645, 1700000000)
    """
    seconds: int | None = None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        seconds = int(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        seconds = round(float(value)) if math.isfinite(float(value)) else None
    elif isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        seconds = int(value.strip())
    elif isinstance(value, str) and _ISO_RE.match(value.strip()):
        seconds = _iso_seconds(value.strip())
    elif isinstance(value, datetime | date) or type(value).__name__ == "datetime64":
        seconds = _datetime_seconds(value)
    if seconds is None:
        raise ValueError(
            f"{value!r} is not a date (use ISO 8601 such as 2024-01-02T03:04:05Z, or unix seconds)"
        )
    if not schema.SECONDS_RANGE[0] <= seconds <= schema.SECONDS_RANGE[1]:
        raise ValueError(f"{value!r} is out of the supported date range")
    return seconds


def _iso_seconds(text: str) -> int | None:
    try:
        return _datetime_seconds(datetime.fromisoformat(text))
    except ValueError:
        return None


def _datetime_seconds(value: Any) -> int | None:
    if type(value).__name__ == "datetime64":  # numpy is loaded: the value is one of its own
        if str(value) == "NaT":
            return None
        micros = int(value.astype("datetime64[us]").astype("int64"))  # no overflow till 9999
        return (micros + 500_000) // 1_000_000
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    try:
        stamp = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        utc = stamp.astimezone(UTC)
        return calendar.timegm(utc.timetuple()) + (utc.microsecond >= 500_000)
    except (ValueError, OverflowError):
        return None  # out of range, or pandas' NaT (a datetime without a time)


def _check_filter(name: str, kind: str, value: Any) -> Any:
    """The canonical value of one filter; raises ValueError/TypeError with the reason."""
    if kind == "array":
        items = [value] if isinstance(value, str) else list(value)
        if not items or not all(isinstance(i, str) and i.strip() for i in items):
            raise ValueError("expected a non-empty list of non-empty strings")
        return [i.strip() for i in items]
    if kind == "date":
        return parse_seconds(value)
    if kind == "boolean":
        return schema.parse_bool(value)
    if kind == "float":
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (real and float(value) >= 0):
            raise ValueError("expected a number >= 0")
        return float(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected non-empty text")
    if kind == "category":
        value = schema.category_value(value)
        if value not in schema.CATEGORIES:
            raise ValueError(f"not a category; use one of: {schema.category_choices()}")
    if name == "sort" and value not in schema.SORTS:
        raise ValueError(f"not a sort order (one of: {', '.join(schema.SORTS)})")
    return value


def _encode_filters(
    dialect: Dialect, filters: Mapping[str, Any]
) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """Check filters and encode them: (wire parameters by filter, canonical values). ``None``
    values are dropped.

    Raises:
        InputError: naming every unknown filter and every bad value.
    """
    problems: list[Problem] = []
    wire: dict[str, dict[str, str]] = {}
    values: dict[str, Any] = {}
    for name, value in filters.items():
        if value is None:
            continue
        kind = dialect.filters.get(name)
        if kind is None:
            canonical = name in schema.VIDEO_FILTERS
            reason = f"not supported by the {dialect.name} API" if canonical else "unknown filter"
            problems.append(_problem(name, reason))
            continue
        try:
            values[name] = _check_filter(name, kind, value)
            wire[name] = dialect.encode_filter(name, values[name])
        except (TypeError, ValueError) as exc:
            problems.append(_problem(name, f"{value!r}: {exc}"))
    after, before = values.get("created_after"), values.get("created_before")
    if after is not None and before is not None and after > before:
        problems.append(_problem("created_after", "is later than created_before"))
    if problems:
        known = ", ".join(dialect.filters)
        raise InputError(f"bad video filters (known filters: {known})", problems)
    return wire, values


def organisation_channels(client: Client) -> list[str]:
    """The ids of the channels (profiles) a private API key reaches.

    Legacy API: the ``channels`` of ``GET /auth``; falls back to the account itself when the
    API lists none.

    Example:
        >>> organisation_channels(partner_client)                      # doctest: +SKIP
        ['x1news', 'x2sport']
    """
    return [str(p["profile_id"]) for p in organisation_profiles(client)]


def organisation_profiles(client: Client) -> list[dict[str, Any]]:
    """The channels (profiles) a key reaches, as dicts with ``profile_id`` and, where the API
    says, ``name`` and ``display_name`` (one request; the account itself when the API lists
    none).

    Example:
        >>> organisation_profiles(v2_client)[0]                        # doctest: +SKIP
        {'profile_id': 'x1news', 'name': 'demo-news', 'display_name': 'Demo News'}
    """
    dialect = client.dialect
    found = dialect.read_profiles(client.send(dialect.channels_call()))
    return found or [{"profile_id": client.account_id}]


def build_query(
    client: Client,
    *,
    owner: str | None,
    fields: Iterable[str] | str | None,
    filters: Mapping[str, Any],
    problems: Iterable[Problem] = (),
    profiles: Sequence[str] | None = None,
) -> VideoQuery:
    """Check a list query and say which lists to read.

    Every problem (unknown fields or filters, bad values, a malformed owner, plus the
    caller's ``problems``) is reported in one :class:`~dmtools.errors.InputError`, before any
    request. Then, when the owner's videos are spread over channels (a private key's
    ``owner="me"``), one request lists the channels. ``profiles`` (channel ids) reads
    those channels' lists instead of ``owner``'s.
    """
    found = list(problems)
    dialect, partner = client.dialect, client.is_partner

    def checked(step: Callable[[], T], default: T) -> T:
        try:
            return step()
        except InputError as exc:
            found.extend(exc.problems)
            return default

    no_names: tuple[str, ...] = ()
    names = checked(lambda: resolve(dialect, fields), no_names)
    nothing: tuple[dict[str, dict[str, str]], dict[str, Any]] = ({}, {})
    wire, values = checked(lambda: _encode_filters(dialect, filters), nothing)
    who = None if owner is None else str(owner)
    unread: str | None = ""
    path = checked(lambda: dialect.list_path(who, partner=partner), unread)
    no_paths: tuple[str, ...] = ()
    chosen = checked(lambda: _profile_lists(dialect, profiles, partner), no_paths)
    if found:
        hint = ""
        if any(p.reason == "unknown filter" for p in found):
            hint = f" (known filters: {', '.join(dialect.filters)})"
        raise InputError(f"bad video query{hint}", found)
    paths = chosen or ((path,) if path is not None else _channel_lists(client))
    params = {k: v for encoded in wire.values() for k, v in encoded.items()}
    selecting = (encoded for n, encoded in wire.items() if n not in (*WINDOW, "sort"))
    return VideoQuery(
        paths=paths,
        fields=names,
        params={**params, **dialect.fields_param(names)},
        filters={k: v for encoded in selecting for k, v in encoded.items()},
        window=(values.get("created_after"), values.get("created_before")),
    )


def _profile_lists(
    dialect: Dialect, profiles: Sequence[str] | None, partner: bool
) -> tuple[str, ...]:
    """The list paths of the channels ``profiles`` (InputError for a malformed id)."""
    if profiles is None:
        return ()
    if not profiles:
        raise InputError("no profile", [_problem("profile", "name at least one profile")])
    ids = [str(p) for p in dict.fromkeys(profiles)]
    if "me" in ids:
        raise InputError("bad profile", [_problem("profile", "'me' is not a profile id")])
    return tuple(dialect.list_path(pid, partner=partner) or "" for pid in ids)


def _channel_lists(client: Client) -> tuple[str, ...]:
    lists = (client.dialect.list_path(c, partner=True) for c in organisation_channels(client))
    return tuple(p for p in lists if p)
