"""The dtypes of a video frame's columns, from the schema (see :mod:`dmtools.frames`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from dmtools import schema
from dmtools.frames._cells import value_kind
from dmtools.schema import VIDEO_FIELDS, Field, resolve_fields

__all__ = ["STRING_DTYPE", "TIMESTAMP_DTYPE", "category_dtype", "dtype_of", "frame_dtypes"]

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


def category_dtype(spec: Field, extra: Iterable[str] = ()) -> pd.CategoricalDtype:
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
            out[spec.column] = dtype_of(spec)
    return out


def dtype_of(spec: Field) -> Any:
    kind = value_kind(spec)
    return {
        "text": STRING_DTYPE,
        "bool": pd.BooleanDtype(),
        "int": pd.Int64Dtype(),
        "float": pd.Float64Dtype(),
        "date": TIMESTAMP_DTYPE,
        "category": category_dtype(spec),
    }.get(kind, np.dtype(object))
