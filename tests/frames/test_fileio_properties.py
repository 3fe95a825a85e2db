"""Property tests: any text survives CSV and Excel; any bytes give a frame or an InputError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmtools.errors import InputError
from dmtools.frames import read_csv, read_excel, to_frame, write_csv, write_excel

SETTINGS = settings(
    max_examples=50, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text as people (and the API) produce it: any code point but lone surrogates, often
# starting with a formula character, a quote, or the missing-value marker.
PREFIXES = st.sampled_from(
    ["", "", "=", "+", "-", "@", "\t", "\r", "'", "''", "<NA>", " ", "\r\n", "_x000D_", "\ufeff"]
)
#: Pieces that matter to the formula guard: separators a spreadsheet may split on, formula
#: characters, quotes, spaces, NUL, and the missing-value marker.
PIECES = st.sampled_from(
    ["=", "+", "-", "@", "\t", "\r", "\n", ";", ",", "'", '"', " ", "\x00", "<NA>", "a", "é"]
)
TEXT = st.builds(
    lambda p, t, q: p + t + q,
    PREFIXES,
    st.text(st.characters(codec="utf-8"), max_size=25),
    st.lists(PIECES, max_size=8).map("".join),
)
ROW = st.fixed_dictionaries(
    {
        "title": TEXT,
        "description": st.none() | TEXT,
        "country": st.none() | TEXT,
        "tags": st.lists(TEXT, max_size=4),
        "private": st.none() | st.booleans(),
        "views_total": st.none() | st.integers(0, 2**53),
        "created_time": st.none() | st.integers(0, 4_000_000_000),
    }
)
ROW_FIELDS = ["title", "description", "country", "tags", "private", "views_total", "created_time"]


def _round_trip(df: pd.DataFrame, suffix: str) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"v{suffix}"
        if suffix == ".csv":
            write_csv(df, path)
            return read_csv(path)
        write_excel(df, path)
        return read_excel(path)


def _frame(rows: list[dict]) -> pd.DataFrame:
    return to_frame([{"id": f"x{i}", **row} for i, row in enumerate(rows)], fields=ROW_FIELDS)


def _as_in_file(df: pd.DataFrame) -> pd.DataFrame:
    """An empty text is a missing value in a CSV or Excel file."""
    out = df.copy()
    for column in ("title", "description", "country"):
        out[column] = out[column].mask(out[column] == "", pd.NA)
    return out


@SETTINGS
@given(st.lists(ROW, max_size=6))
def test_any_text_round_trips_through_csv(rows):
    df = _frame(rows)
    pd.testing.assert_frame_equal(_round_trip(df, ".csv"), _as_in_file(df))


@SETTINGS
@given(st.lists(ROW, max_size=6))
def test_any_text_round_trips_through_excel(rows):
    df = _frame(rows)
    pd.testing.assert_frame_equal(_round_trip(df, ".xlsx"), _as_in_file(df))


def _read_or_input_error(reader, payload: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(payload)
        try:
            df = reader(path)
        except InputError:
            return
        assert df.index.name == "id"


CSV_HEADER = b"# dmtools export format 1\r\nid,title,tags,private,views_total,created_time\r\n"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.binary(max_size=300)
    | st.binary(max_size=300).map(lambda b: CSV_HEADER + b)
    | st.text(max_size=200).map(lambda t: CSV_HEADER + t.encode("utf-8", "surrogatepass"))
)
def test_random_bytes_into_the_csv_reader_give_a_frame_or_input_error(payload):
    _read_or_input_error(read_csv, payload, ".csv")


def _valid_workbook() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ok.xlsx"
        write_excel(
            _frame(
                [
                    {
                        "title": "t",
                        "description": None,
                        "country": "FR",
                        "tags": ["a"],
                        "private": True,
                        "views_total": 3,
                        "created_time": 5,
                    }
                ]
            ),
            path,
        )
        return path.read_bytes()


VALID_XLSX = _valid_workbook()


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )
    | st.just([])
)
def test_damaged_workbooks_give_a_frame_or_input_error(flips):
    payload = bytearray(VALID_XLSX)
    for position, value in flips:
        payload[position] = value
    _read_or_input_error(read_excel, bytes(payload), ".xlsx")
