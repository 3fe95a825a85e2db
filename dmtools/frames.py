"""Video records <-> pandas DataFrames, and the one canonical form of a cell value.

A frame of videos has the video id as its index (named ``id``) and one column per field, in
the order of :data:`dmtools.schema.VIDEO_FIELDS`; dotted fields become underscore columns
(``owner.screenname`` -> ``owner_screenname``). Column dtypes come from the schema:

============  ==========================================================================
field kind    column dtype
============  ==========================================================================
text          ``string[pyarrow]`` (:class:`pandas.StringDtype`, missing values are ``pd.NA``)
boolean       ``boolean``
integer       ``Int64``
date          ``datetime64[ns, UTC]`` (the API sends unix seconds)
category      ``category`` with the schema's full list of values as categories, so two
              frames compare equal whichever values they hold (a value the list does not
              know is kept, as an extra category after the known ones)
tags          ``object`` holding a Python ``list[str]`` per row; a missing list is ``[]``
============  ==========================================================================

:func:`canonical`, :func:`from_cell` and :func:`to_wire` (from :mod:`dmtools.cells`, re-exported
here) define what a cell *means*; the bulk-edit planner and the file importers share them.

File round trips (CSV, Excel, Parquet) live in :mod:`dmtools.fileio` and are re-exported here.

Example:
    >>> from dmtools.frames import to_frame
    >>> df = to_frame([{"id": "x1", "title": "Hello", "created_time": 1700000000}])
    >>> df.loc["x1", "title"]
    'Hello'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from dmtools import schema
from dmtools.cells import (
    PARSERS,
    SECONDS_RANGE,
    canonical,
    field_for,
    from_cell,
    is_missing,
    to_wire,
    value_kind,
)
from dmtools.errors import InputError, Problem
from dmtools.schema import BY_COLUMN, VIDEO_FIELDS, Field, resolve_fields

if TYPE_CHECKING:
    from dmtools.fileio import (
        export_frame,
        import_frame,
        read_csv,
        read_excel,
        read_parquet,
        write_csv,
        write_excel,
        write_parquet,
    )

__all__ = [
    "STRING_DTYPE",
    "TIMESTAMP_DTYPE",
    "canonical",
    "conform",
    "export_frame",
    "field_for",
    "frame_dtypes",
    "from_cell",
    "import_frame",
    "is_missing",
    "read_csv",
    "read_excel",
    "read_parquet",
    "resolve_fields",
    "to_frame",
    "to_wire",
    "value_kind",
    "write_csv",
    "write_excel",
    "write_parquet",
]

log = logging.getLogger(__name__)

#: Dtype of text columns: pandas' nullable string (``pd.NA`` for missing values, not the NaN
#: of pandas 3's default ``str``), stored in Arrow on every pandas version (pyarrow is a
#: dependency), so frames behave and compare the same on pandas 2.2 and 3.x.
STRING_DTYPE = pd.StringDtype("pyarrow")
#: Dtype of date columns.
TIMESTAMP_DTYPE = pd.DatetimeTZDtype("ns", "UTC")

_ORDERED_CHOICES: dict[str, tuple[str, ...]] = {
    "channel": schema.CATEGORIES,
    "status": schema.STATUSES,
}


def _category_dtype(spec: Field, extra: Iterable[str] = ()) -> pd.CategoricalDtype:
    known = _ORDERED_CHOICES.get(spec.name) or tuple(sorted(spec.choices or ()))
    return pd.CategoricalDtype(list(known) + sorted(set(extra) - set(known)))


def frame_dtypes(fields: str | Iterable[str] | None = None) -> dict[str, Any]:
    """Column name -> dtype of a frame holding ``fields`` (the ``id`` index excluded).

    Example:
        >>> str(frame_dtypes(["views_total"])["views_total"])
        'Int64'
    """
    out: dict[str, Any] = {}
    for name in resolve_fields(fields):
        spec = VIDEO_FIELDS[name]
        if name != "id":
            out[spec.column] = _dtype(spec)
    return out


def _dtype(spec: Field) -> Any:
    kind = value_kind(spec)
    return {
        "text": STRING_DTYPE,
        "bool": pd.BooleanDtype(),
        "int": pd.Int64Dtype(),
        "float": pd.Float64Dtype(),
        "date": TIMESTAMP_DTYPE,
        "category": _category_dtype(spec),
    }.get(kind, np.dtype(object))


# -- building columns ---------------------------------------------------------------------------


def _parse_all(
    spec: Field, values: Sequence[Any], label: Callable[[int], str], problems: list[Problem]
) -> list[Any]:
    kind = value_kind(spec)
    parse = PARSERS[kind]
    out: list[Any] = []
    for i, value in enumerate(values):
        if is_missing(value):
            out.append([] if kind == "tags" else None)
            continue
        try:
            out.append(parse(value))
        except ValueError as exc:
            problems.append(Problem(label(i), spec.column, str(exc)))
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


def _column(
    spec: Field, values: Sequence[Any], label: Callable[[int], str], problems: list[Problem]
) -> Any:
    """An array of ``spec``'s dtype from Python values (fast path for clean API values)."""
    kind = value_kind(spec)
    if kind in ("text", "category") and not _only(values, str, _NONE):
        values = _parse_all(spec, values, label, problems)
    elif kind == "category" and not _utf8(values):  # text columns: checked by _strings
        values = _parse_all(spec, values, label, problems)
    elif kind == "bool" and not _only(values, bool, _NONE):
        values = _parse_all(spec, values, label, problems)
    elif kind in ("int", "date") and not _only(values, int, _NONE):
        values = _parse_all(spec, values, label, problems)
    elif kind == "tags" and not (
        _only(values, list)
        and _only(chain.from_iterable(values), str)
        and _utf8(chain.from_iterable(values))
    ):
        values = _parse_all(spec, values, label, problems)
    if kind == "text":
        return _strings(spec, values, label, problems)
    if kind == "bool":
        return pd.array(values, dtype="boolean")
    if kind in ("int", "date"):
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
            ints = pd.array(
                _parse_all(spec, list(ints.astype(object)), label, problems), dtype="Int64"
            )
        nanos = ints.to_numpy(dtype="int64", na_value=0) * 1_000_000_000
        stamps = nanos.view("M8[ns]")
        stamps[ints.isna()] = np.datetime64("NaT")
        return pd.DatetimeIndex(stamps).tz_localize("UTC").array
    if kind == "category":
        if spec.name == "channel":  # a label ("Video games") stands for its category
            values = [schema.category_value(v) if isinstance(v, str) else v for v in values]
        present = set(values)
        present.discard(None)
        present.discard("")
        dtype = _category_dtype(spec)
        extra = present.difference(dtype.categories)
        if extra:
            log.warning(
                "%s: values outside the known list kept as extra categories: %s",
                spec.column,
                ", ".join(sorted(extra)),
            )
            dtype = _category_dtype(spec, extra)
        return pd.Categorical([v or None for v in values] if "" in values else values, dtype=dtype)
    if kind == "float":
        return pd.array(_parse_all(spec, values, label, problems), dtype="Float64")
    # Clean tag lists are used as they are (not copied): copying 100,000 lists costs more
    # than the rest of the build, and a deep copy of a frame never copies them anyway.
    return np.fromiter(iter(values), dtype=object, count=len(values))


def _strings(
    spec: Field, values: Sequence[Any], label: Callable[[int], str], problems: list[Problem]
) -> Any:
    """A string array from ``str``/None values (text that is not valid Unicode is a problem)."""
    import pyarrow as pa

    try:  # straight to Arrow: skips pandas' extra object-array copy
        return pd.array(pa.array(values, type=pa.large_string()), dtype=STRING_DTYPE)
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


def _assemble(
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
    return isinstance(values, pd.api.extensions.ExtensionArray) and values.dtype == _dtype(spec)


def _labeller(ids: Sequence[Any], prefix: str = "") -> Callable[[int], str]:
    def label(i: int) -> str:
        vid = ids[i] if i < len(ids) else None
        return f"{prefix}{vid}" if isinstance(vid, str) and vid else f"{prefix}#{i}"

    return label


def to_frame(
    records: Iterable[Mapping[str, Any]], fields: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """A frame of videos from API records (dicts keyed by wire field name).

    Args:
        records: video dicts as the API returns them (``created_time`` in unix seconds,
            ``tags`` a list, dotted keys such as ``"owner.screenname"``).
        fields: None: the default fields plus every other known field present in the
            records (a key that is not a video field is an error). ``"all"`` or names: exactly
            those columns; other keys of the records are ignored.

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
            return list(map(dict.get, cast(list[dict[str, Any]], rows), repeat(name)))
        return [r.get(name) for r in rows]

    ids = pick("id")
    columns = _Lazy({n: pick for n in names if n != "id"})  # one column list alive at a time
    return _assemble([VIDEO_FIELDS[n] for n in names], ids, columns, _labeller(ids))


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
    if "id" in df.columns:
        ids: list[Any] = df["id"].tolist()
        df = df.drop(columns="id")
    elif df.index.name == "id":
        ids = df.index.tolist()
    else:
        raise InputError(
            "the frame has no video id (an index or a column named 'id')",
            [Problem(None, "id", "missing id")],
        )
    specs: list[Field] = []
    for column in df.columns:
        spec = VIDEO_FIELDS.get(column) if isinstance(column, str) else None
        spec = spec or (BY_COLUMN.get(column) if isinstance(column, str) else None)
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
        if series.dtype == _dtype(spec) and value_kind(spec) != "tags":
            columns[spec.name] = series.array
        else:
            columns[spec.name] = [None if is_missing(v) else v for v in series.tolist()]
    order = [s for s in VIDEO_FIELDS.values() if s in specs]
    return _assemble(order, ids, columns, label, problems)


_FILE_FUNCTIONS = frozenset(
    {
        "export_frame",
        "import_frame",
        "read_csv",
        "read_excel",
        "read_parquet",
        "write_csv",
        "write_excel",
        "write_parquet",
    }
)


def __getattr__(name: str) -> Any:
    # The file functions live in dmtools.fileio (which builds on this module); they are
    # served from here on first use so either module can be imported first.
    if name in _FILE_FUNCTIONS:
        from dmtools import fileio

        return getattr(fileio, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
