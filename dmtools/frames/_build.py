"""Building typed frames: records (or a user's frame) -> the canonical video frame.

See :mod:`dmtools.frames` for the frame's shape and dtypes. Values are parsed column by column
(a fast path for clean API values, :func:`dmtools.frames._cells.parse` for the rest); every
bad value is collected with its row and column, and one
:class:`~dmtools.errors.InputError` lists them all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from typing import Any, cast

import numpy as np
import pandas as pd

from dmtools import schema
from dmtools._shared import release_free_heap
from dmtools.errors import InputError, Problem
from dmtools.frames._cells import BadCell, is_missing, parse, value_kind
from dmtools.frames._dtypes import STRING_DTYPE, category_dtype, dtype_of
from dmtools.schema import SECONDS_RANGE, VIDEO_FIELDS, Field, column_field, resolve_fields

__all__ = [
    "assemble",
    "conform",
    "index_by_id",
    "split_ids",
    "to_frame",
]

log = logging.getLogger(__name__)

# -- building columns ---------------------------------------------------------------------------


def _parse_all(
    spec: Field, values: Sequence[Any], label: Callable[[int], str], problems: list[Problem]
) -> list[Any]:
    kind = value_kind(spec)
    out: list[Any] = []
    for i, value in enumerate(values):
        if is_missing(value):
            out.append([] if kind == "tags" else None)
            continue
        try:
            out.append(parse(kind, value))
        except BadCell as exc:
            problems.append(Problem(label(i), spec.column, exc.reason))
            out.append([] if kind == "tags" else None)
    return out


_NONE = type(None)


def _only(values: Iterable[Any], *types: type) -> bool:
    """True when every value's exact type is one of ``types`` (a C-speed check)."""
    return set(map(type, values)).issubset(types)


def _utf8(strings: Iterable[str | None]) -> bool:
    """True when every string is valid Unicode (no lone surrogate); one C-speed encode."""
    try:
        "".join(filter(None, strings)).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean(kind: str, values: Sequence[Any]) -> bool:
    """True when ``values`` already hold what a ``kind`` column is built from (API values):
    the parsers can be skipped."""
    if kind in ("text", "category"):
        return _only(values, str, _NONE) and (kind == "text" or _utf8(values))
    if kind == "bool":
        return _only(values, bool, _NONE)
    if kind in ("int", "date"):
        return _only(values, int, _NONE)
    if kind == "tags":
        tags = chain.from_iterable(values)
        return _only(values, list) and _only(tags, str) and _utf8(chain.from_iterable(values))
    return True


def _column(
    spec: Field, values: Sequence[Any], label: Callable[[int], str], problems: list[Problem]
) -> Any:
    """An array of ``spec``'s dtype from Python values (fast path for clean API values)."""
    kind = value_kind(spec)
    if kind != "float" and not _clean(kind, values):  # text columns: Unicode checked by _strings
        values = _parse_all(spec, values, label, problems)
    if kind == "text":
        return _strings(spec, values, label, problems)
    if kind == "bool":
        return pd.array(values, dtype="boolean")
    if kind in ("int", "date"):
        return _numbers(spec, kind, values, label, problems)
    if kind == "category":
        return _categories(spec, values)
    if kind == "float":
        return pd.array(_parse_all(spec, values, label, problems), dtype="Float64")
    # Clean tag lists are used as they are (not copied): copying 100,000 lists costs more
    # than the rest of the build, and a deep copy of a frame never copies them anyway.
    return np.fromiter(iter(values), dtype=object, count=len(values))


def _numbers(
    spec: Field,
    kind: str,
    values: Sequence[Any],
    label: Callable[[int], str],
    problems: list[Problem],
) -> Any:
    """An ``Int64`` array, or for dates a UTC ``datetime64[ns]`` one (seconds in range)."""
    try:
        ints = pd.array(values, dtype="Int64")
    except (OverflowError, TypeError, ValueError):  # beyond int64
        ints = pd.array(_parse_all(spec, values, label, problems), dtype="Int64")
    if kind == "int":
        return ints
    seconds = ints.to_numpy(dtype="int64", na_value=0)[~ints.isna()]
    if seconds.size and not (
        SECONDS_RANGE[0] <= seconds.min() and seconds.max() <= SECONDS_RANGE[1]
    ):
        ints = pd.array(_parse_all(spec, list(ints.astype(object)), label, problems), dtype="Int64")
    nanos = ints.to_numpy(dtype="int64", na_value=0) * 1_000_000_000
    stamps = nanos.view("M8[ns]")
    stamps[ints.isna()] = np.datetime64("NaT")
    return pd.DatetimeIndex(stamps).tz_localize("UTC").array


def _categories(spec: Field, values: Sequence[Any]) -> Any:
    """A categorical of the schema's values (others kept as extra categories, logged)."""
    if spec.name == "channel":  # a label ("Video games") stands for its category
        value_of = {v: schema.category_value(v) for v in set(values) if isinstance(v, str)}
        values = list(map(value_of.get, values, values))  # each distinct value looked up once
    present = set(values)
    present.discard(None)
    present.discard("")
    dtype = category_dtype(spec)
    extra = present.difference(dtype.categories)
    if extra:
        log.warning(
            "%s: values outside the known list kept as extra categories: %s",
            spec.column,
            ", ".join(sorted(extra)),
        )
        dtype = category_dtype(spec, extra)
    return pd.Categorical([v or None for v in values] if "" in values else values, dtype=dtype)


def _strings(
    spec: Field, values: Sequence[Any], label: Callable[[int], str], problems: list[Problem]
) -> Any:
    """A string array from ``str``/None values (text that is not valid Unicode is a problem)."""
    import pyarrow as pa

    try:  # straight to Arrow: skips pandas' extra object-array copy
        # the system allocator: Arrow's default pool (mimalloc) keeps about as much again
        # resident as the text it holds, which a 100,000-video frame would pay
        array = pa.array(values, type=pa.large_string(), memory_pool=pa.system_memory_pool())
        return pd.array(array, dtype=STRING_DTYPE)
    except (UnicodeError, ValueError, TypeError):  # lone surrogates (pyarrow: ArrowInvalid)
        clean: list[str | None] = []
        for i, value in enumerate(values):
            try:
                if value is not None:
                    value.encode("utf-8")
            except UnicodeError:
                problems.append(Problem(label(i), spec.column, "not valid Unicode text"))
                value = None
            clean.append(value)
        return pd.array(clean, dtype=STRING_DTYPE)


def assemble(
    fields: Sequence[Field],
    ids: Sequence[Any],
    columns: Mapping[str, Any],
    label: Callable[[int], str],
    problems: list[Problem] | None = None,
) -> pd.DataFrame:
    """A frame from ``columns`` (field name -> values or ready arrays), index from ``ids``."""
    problems = [] if problems is None else problems
    id_spec = VIDEO_FIELDS["id"]
    index_values = _column(id_spec, ids, label, problems)
    if not (_only(ids, str) and all(map(str.strip, ids))):
        for i, vid in enumerate(index_values):
            if vid is pd.NA or not vid.strip():
                problems.append(Problem(label(i), "id", "the video id is missing"))
    data: dict[str, Any] = {}
    for spec in fields:
        if spec.name == "id":
            continue
        values = columns[spec.name]
        data[spec.column] = (
            values if _is_ready(spec, values) else _column(spec, values, label, problems)
        )
        del values
    if problems:
        raise InputError(f"{len(problems)} bad value(s)", problems)
    index = pd.Index(index_values, name="id")
    frame = pd.DataFrame(data, index=index)  # no columns=: pandas 2.2 then copies via objects
    return frame


class _Lazy(Mapping[str, Any]):
    """name -> values, computed when asked for (so only one column list is alive at a time)."""

    def __init__(self, makers: dict[str, Callable[[str], Any]]) -> None:
        self._makers = makers

    def __getitem__(self, name: str) -> Any:
        return self._makers[name](name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


def _is_ready(spec: Field, values: Any) -> bool:
    return isinstance(values, pd.api.extensions.ExtensionArray) and values.dtype == dtype_of(spec)


def _labeller(ids: Sequence[Any], prefix: str = "") -> Callable[[int], str]:
    def label(i: int) -> str:
        vid = ids[i] if i < len(ids) else None
        return f"{prefix}{vid}" if isinstance(vid, str) and vid else f"{prefix}#{i}"

    return label


def to_frame(
    records: Iterable[Mapping[str, Any]],
    fields: str | Iterable[str] | None = None,
    *,
    consume: bool = False,
) -> pd.DataFrame:
    """A frame of videos from API records (dicts keyed by wire field name).

    Args:
        records: video dicts as the API returns them (``created_time`` in unix seconds,
            ``tags`` a list, dotted keys such as ``"owner.screenname"``).
        fields: None: the default fields plus every other known field present in the
            records (a key that is not a video field is an error). ``"all"`` or names: exactly
            those columns; other keys of the records are ignored.
        consume: take each column's values out of the records (``dict.pop``) as it is
            built, so a large load's values are freed column by column instead of being
            held twice; the records are left emptied of the frame's fields. Only for records
            nothing else will read (``load_videos`` uses it for its own).

    Raises:
        InputError: unknown fields, records that are not dicts, a missing id, or values that
            do not fit their field (every bad value is listed).

    Example:
        >>> to_frame([], fields=["title"]).columns.tolist()
        ['title']
    """
    rows = list(records)
    plain = _only(rows, dict)
    bad = [] if plain else [i for i, r in enumerate(rows) if not isinstance(r, Mapping)]
    if bad:
        raise InputError(
            "records must be dicts", [Problem(f"#{i}", None, "not a dict") for i in bad]
        )
    if fields is None:
        seen: set[str] = set(chain.from_iterable(rows))
        unknown = sorted(str(k) for k in seen if k not in VIDEO_FIELDS)
        if unknown:
            raise InputError(
                f"unknown video field(s) in the records: {', '.join(unknown)}",
                [Problem(None, k, "unknown video field") for k in unknown],
            )
        wanted = set(schema.DEFAULT_VIDEO_FIELDS) | seen
        names = [n for n in VIDEO_FIELDS if n in wanted]
    else:
        names = resolve_fields(fields)

    def pick(name: str) -> list[Any]:
        if plain:
            take = dict.pop if consume else dict.get
            return list(map(take, cast(list[dict[str, Any]], rows), repeat(name), repeat(None)))
        return [r.get(name) for r in rows]

    if consume:
        release_free_heap()  # what the load freed, before the frame's buffers are taken
    ids = pick("id")
    columns = _Lazy({n: pick for n in names if n != "id"})  # one column list alive at a time
    return assemble([VIDEO_FIELDS[n] for n in names], ids, columns, _labeller(ids))


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the dtypes, index and column order :func:`to_frame` gives.

    Accepts the id as the index (named ``id``) or as an ``id`` column, and columns named by
    field (``owner.screenname``) or by column (``owner_screenname``). Columns that already
    have the right dtype are kept as they are.

    Raises:
        InputError: unknown or duplicate columns, no id, or values that do not fit (all listed).

    Example:
        >>> import pandas as pd
        >>> conform(pd.DataFrame({"id": ["x1"], "views_total": [3]})).dtypes.iloc[0]
        Int64Dtype()
    """
    problems: list[Problem] = []
    found = split_ids(df)
    if found is None:
        raise InputError(
            "the frame has no video id (an index or a column named 'id')",
            [Problem(None, "id", "missing id")],
        )
    df, ids = found
    specs: list[Field] = []
    for column in df.columns:
        spec = column_field(column) if isinstance(column, str) else None
        if spec is None or spec.name == "id":
            problems.append(Problem(None, str(column), "unknown video field"))
        elif spec in specs:
            problems.append(Problem(None, str(column), "duplicate column"))
        else:
            specs.append(spec)
    if problems:
        raise InputError("the frame has columns dmtools cannot use", problems)
    label = _labeller(ids)
    columns: dict[str, Any] = {}
    for position, spec in zip(range(len(df.columns)), specs, strict=False):
        series = df.iloc[:, position]
        if series.dtype == dtype_of(spec) and value_kind(spec) != "tags":
            columns[spec.name] = series.array
        else:
            columns[spec.name] = [None if is_missing(v) else v for v in series.tolist()]
    order = [s for s in VIDEO_FIELDS.values() if s in specs]
    return assemble(order, ids, columns, label, problems)


def split_ids(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Any]] | None:
    """(the frame without its ids, the ids as they are): the id is an ``id`` column, an index
    named ``id``, or an index of text; None when the frame has none of these."""
    if "id" in frame.columns:
        return frame.drop(columns="id"), frame["id"].tolist()
    texts = frame.index.dtype == object or pd.api.types.is_string_dtype(frame.index)
    ids = frame.index.tolist()
    if frame.index.name == "id" or (texts and all(isinstance(v, str) for v in ids)):
        return frame, ids
    return None


def index_by_id(frame: Any, what: str, problems: list[Problem]) -> pd.DataFrame | None:
    """``frame`` indexed by video id as text (values untouched), for the planner: every
    missing or duplicate id is added to ``problems``; None when ``frame`` has no ids at all.

    Example:
        >>> index_by_id(pd.DataFrame({"id": ["x1"], "title": ["a"]}), "the frame", []).index[0]
        'x1'
    """
    if not isinstance(frame, pd.DataFrame):
        kind = type(frame).__name__
        problems.append(Problem(None, None, f"{what} must be a pandas DataFrame, not {kind}"))
        return None
    found = split_ids(frame)
    if found is None:
        problems.append(Problem(None, "id", f"{what} has no video id column or index"))
        return None
    rest, raw = found
    if _only(raw, str) and all(map(str.strip, raw)) and len(set(raw)) == len(raw):
        ids: list[str | None] = raw  # the usual frame: text ids, none blank, none twice
    else:
        ids = _checked_ids(raw, what, problems)
    rest = rest.copy(deep=False)
    rest.index = pd.Index(ids, dtype=object, name="id")
    return rest


def _checked_ids(raw: list[Any], what: str, problems: list[Problem]) -> list[str | None]:
    """The ids as text (None for a missing one); every missing or duplicate id is a problem."""
    ids: list[str | None] = []
    seen: dict[str, list[int]] = {}
    for position, vid in enumerate(raw):
        if is_missing(vid) or not str(vid).strip():
            problems.append(Problem(f"#{position}", "id", f"missing video id in {what}"))
            ids.append(None)
        else:
            ids.append(str(vid))
            seen.setdefault(str(vid), []).append(position)
    for vid, positions in seen.items():
        if len(positions) > 1:
            where = ", ".join(f"#{p}" for p in positions)
            problems.append(Problem(vid, "id", f"duplicate id in {what} (rows {where})"))
    return ids
