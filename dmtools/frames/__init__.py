"""Video records <-> pandas DataFrames, the one canonical form of a cell value, and files.

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

The package, layer by layer (each module imports only those above it):

* ``_cells``: what a cell *means* (:func:`canonical`, :func:`from_cell`, :func:`to_wire`),
  with one internal error for a bad cell, turned into ``InputError`` at the edges;
* ``_dtypes`` and ``_build``: :func:`to_frame`, :func:`conform` and the id normaliser
  shared with the planner;
* ``_filecells``, ``_csv``, ``_xlsx`` and :mod:`~dmtools.frames.files`: lossless CSV, Excel
  and Parquet round trips;
* :mod:`~dmtools.frames.formats`: the one suffix table (:func:`import_frame`,
  :func:`export_frame`).

``dmtools.cells`` and ``dmtools.fileio`` still import (they are these names).

Example:
    >>> from dmtools.frames import to_frame
    >>> df = to_frame([{"id": "x1", "title": "Hello", "created_time": 1700000000}])
    >>> df.loc["x1", "title"]
    'Hello'
"""

from __future__ import annotations

from dmtools.frames._build import conform, index_by_id, to_frame
from dmtools.frames._cells import (
    PARSERS,
    canonical,
    field_for,
    from_cell,
    is_missing,
    to_wire,
    value_kind,
)
from dmtools.frames._dtypes import STRING_DTYPE, TIMESTAMP_DTYPE, frame_dtypes
from dmtools.frames.files import (
    FORMAT_VERSION,
    MISSING,
    read_csv,
    read_excel,
    read_parquet,
    write_csv,
    write_excel,
    write_parquet,
)
from dmtools.frames.formats import FORMATS, export_frame, import_frame
from dmtools.schema import resolve_fields

__all__ = [
    "FORMATS",
    "FORMAT_VERSION",
    "MISSING",
    "PARSERS",
    "STRING_DTYPE",
    "TIMESTAMP_DTYPE",
    "canonical",
    "conform",
    "export_frame",
    "field_for",
    "frame_dtypes",
    "from_cell",
    "import_frame",
    "index_by_id",
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
