"""CSV / Excel / Parquet round trips are lossless for every value a person can type."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from dmtools.errors import InputError
from dmtools.frames import (
    export_frame,
    frame_dtypes,
    import_frame,
    read_csv,
    read_excel,
    read_parquet,
    to_frame,
    write_csv,
    write_excel,
    write_parquet,
)

TRAPS = [
    "NA",
    "N/A",
    "NULL",
    "null",
    "None",
    "nan",
    "NaN",
    "#N/A",
    "",
    " ",
    "0",
    "00123",
    "1e5",
    "TRUE",
    "false",
    "2024-01-02",
    "1/2",
    "=1+1",
    "+33 6 12 34 56 78",
    "-",
    "@x",
    "\tx",
    "\rx",
    "'quoted",
    "''",
    "'",
    "<NA>",
    "'<NA>",
    "<na>",
    "_x000D_",
    "_x005F_x0041_",
    " lead",
    "trail ",
    "a\r\nb\r\n",
    "a\nb",
    "a\rb",
    "emoji \U0001f600\u200d\U0001f466",
    "עברית RTL",
    unicodedata.normalize("NFC", "caf\u00e9"),
    unicodedata.normalize("NFD", "caf\u00e9"),
    "tab\tinside",
    'quote "inside"',
    "comma, inside",
    "x" * 10_000,
    "\ufeffbom",
]

FORMATS = {
    "csv": (write_csv, read_csv),
    "xlsx": (write_excel, read_excel),
    "parquet": (write_parquet, read_parquet),
}


def as_in_file(df: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """What a CSV or Excel file keeps: an empty text is a missing value there."""
    if fmt == "parquet":
        return df
    out = df.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].mask(out[column] == "", pd.NA)
    return out


def trap_frame() -> pd.DataFrame:
    records = []
    for i, text in enumerate(TRAPS):
        records.append(
            {
                "id": f"x{i}",
                "title": text,
                "description": None if i % 7 == 3 else text,
                "tags": [t for t in (text, "a, b", 'q"uote', " s ") if len(t) < 60][: i % 5],
                "channel": [None, "music", "news"][i % 3],
                "language": text if i % 2 else None,
                "published": [True, False, None][i % 3],
                "status": [None, "published", "ready"][i % 3],
                "owner.screenname": text[:50],
                "created_time": None if i % 4 == 0 else 1_700_000_000 + i,
                "views_total": None if i % 5 == 0 else i * 1000,
                "duration": 0,
            }
        )
    return to_frame(records, fields=[*records[0]])


@pytest.mark.parametrize("fmt", FORMATS)
def test_trap_values_round_trip_identically(tmp_path: Path, fmt: str):
    df = trap_frame()
    write, read = FORMATS[fmt]
    path = tmp_path / f"videos.{fmt}"
    write(df, path)
    back = read(path)
    df = as_in_file(df, fmt)
    pd.testing.assert_frame_equal(back, df)
    for column in ("title", "description", "language"):  # exact str values, not just "equal"
        assert [v for v in back[column].tolist() if v is not pd.NA] == [
            v for v in df[column].tolist() if v is not pd.NA
        ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_frame_round_trips_with_dtypes(tmp_path: Path, fmt: str):
    df = to_frame([], fields="all")
    write, read = FORMATS[fmt]
    write(df, tmp_path / f"e.{fmt}")
    back = read(tmp_path / f"e.{fmt}")
    pd.testing.assert_frame_equal(back, df)
    assert {c: back[c].dtype for c in back.columns} == frame_dtypes("all")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_five_thousand_rows_round_trip(tmp_path: Path, fmt: str):
    records = [
        {
            "id": f"x{i}",
            "title": TRAPS[i % len(TRAPS)][:100],
            "tags": ["a", "b"],
            "views_total": i,
            "created_time": 1_600_000_000 + i,
            "published": i % 2 == 0,
            "channel": "news",
            "description": "d" * 200,
        }
        for i in range(5000)
    ]
    df = to_frame(records)
    write, read = FORMATS[fmt]
    write(df, tmp_path / f"big.{fmt}")
    back = read(tmp_path / f"big.{fmt}")
    pd.testing.assert_frame_equal(back, as_in_file(df, fmt))


def test_csv_guards_formulas_and_is_a_plain_table(tmp_path: Path):
    df = to_frame(
        [
            {"id": "x1", "title": '=HYPERLINK("http://e.test")'},
            {"id": "x2", "title": "'already"},
            {"id": "x3", "title": "<NA>"},
            {"id": "x4", "title": None},
            {"id": "x5", "title": "@SUM(A1)"},
            {"id": "x6", "title": "\x00=1+1"},
        ],
        fields=["title"],
    )
    path = tmp_path / "v.csv"
    write_csv(df, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,title\r\n")  # no marker line: pandas reads it
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert lines[1:] == [
        'x1,"\'=HYPERLINK(""http://e.test"")"',
        "x2,''already",
        "x3,'<NA>",
        "x4,",
        "x5,'@SUM(A1)",
        "x6,'\x00=1+1",
        "",
    ]
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\x00"))
        for line in lines[1:]
        for cell in line.split(",")[1:]
    )
    pd.testing.assert_frame_equal(read_csv(path), df)


def test_excel_guards_formulas_and_marks_the_workbook(tmp_path: Path):
    from openpyxl import load_workbook

    df = to_frame([{"id": "x1", "title": "=1+1"}, {"id": "x2", "title": "-2"}], fields=["title"])
    write_excel(df, tmp_path / "v.xlsx")
    book = load_workbook(tmp_path / "v.xlsx")
    assert book["dmtools"].sheet_state == "hidden"
    sheet = book["videos"]
    assert [c.value for c in sheet["B"]] == ["title", "'=1+1", "'-2"]
    assert all(c.data_type == "s" for c in sheet["B"])


def test_tags_with_commas_and_quotes_fit_one_csv_cell(tmp_path: Path):
    df = to_frame([{"id": "x1", "tags": ["a, b", 'say "hi"', " x "]}], fields=["tags"])
    write_csv(df, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2
    assert read_csv(tmp_path / "t.csv").loc["x1", "tags"] == ["a, b", 'say "hi"', " x "]


def test_hand_made_csv_imports_with_the_same_rules(tmp_path: Path):
    path = tmp_path / "edited.csv"
    path.write_bytes(
        "\ufeffid;title;tags;published;views_total;created_time;channel;description\r\n"
        "x1;'kept;music, live ;TRUE;00123;2024-01-02 03:04:05;news;\r\n"
        'x2;<NA>;["a, b"];no;;1700000000;;NA\r\n'
        "x3;'=typed as text;;;;;;\r\n"
        "\r\n;;;;;;;\r\n".encode()
    )
    df = read_csv(path)
    assert df.loc["x1", "title"] == "'kept"  # a ' before ordinary text is text
    assert df.loc["x3", "title"] == "=typed as text"  # what a spreadsheet user means
    assert df.loc["x2", "title"] is pd.NA  # <NA> and an empty cell: no value, in every column
    assert df.loc["x1", "tags"] == ["music", "live"] and df.loc["x2", "tags"] == ["a, b"]
    assert bool(df.loc["x1", "published"]) and not bool(df.loc["x2", "published"])
    assert df.loc["x1", "views_total"] == 123 and df.loc["x2", "views_total"] is pd.NA
    assert df.loc["x1", "created_time"] == pd.Timestamp("2024-01-02 03:04:05", tz="UTC")
    assert df.loc["x2", "channel"] is pd.NA or pd.isna(df.loc["x2", "channel"])
    assert df.loc["x1", "description"] is pd.NA and df.loc["x2", "description"] == "NA"
    assert len(df) == 3  # blank and all-empty rows are skipped
    assert df.columns.tolist() == [
        "title",
        "description",
        "tags",
        "channel",
        "published",
        "created_time",
        "views_total",
    ]  # schema order


def test_a_format_1_export_still_reads(tmp_path: Path):
    path = tmp_path / "resaved.csv"
    path.write_text(
        "# dmtools export format 1 - <NA> is a missing value,,\r\n"
        "id,title,description\r\n"
        "x1,'=1+1,<NA>\r\n"
        "x2,=typed by hand,\r\n"
        "x3,a;'=b,\r\n",
        encoding="utf-8",
    )
    df = read_csv(path)
    assert df.loc["x1", "title"] == "=1+1" and df.loc["x1", "description"] is pd.NA
    assert df.loc["x2", "title"] == "=typed by hand" and df.loc["x2", "description"] is pd.NA
    assert df.loc["x3", "title"] == "a;'=b"  # format 1 never guarded inside a cell


def test_bad_cells_are_all_reported_with_row_column_and_reason(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,published,views_total,created_time,tags\n"
        "x1,maybe,12,2024-01-02,[]\n"
        "x2,true,lots,02/01/2024,[oops\n"
        ",false,1,,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_csv(path)
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {
        ("2 (id x1)", "published"),
        ("3 (id x2)", "views_total"),
        ("3 (id x2)", "created_time"),
        ("3 (id x2)", "tags"),
        ("4", "id"),
    }
    assert "maybe" in str(info.value) and "row 3 (id x2), column 'views_total'" in str(info.value)


def test_unknown_or_missing_columns_in_a_file_are_named(tmp_path: Path):
    path = tmp_path / "cols.csv"
    path.write_text("id,title,colour,category\nx1,a,red,music\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_csv(path)
    assert [p.column for p in info.value.problems] == ["colour", "category"]
    path.write_text("title\nx\n", encoding="utf-8")
    with pytest.raises(InputError, match="'id'"):
        read_csv(path)


def test_writing_a_frame_with_unknown_columns_fails_before_any_file(tmp_path: Path):
    df = to_frame([{"id": "x1", "title": "a"}], fields=["title"]).assign(colour="red")
    for fmt, (write, _) in FORMATS.items():
        with pytest.raises(InputError, match="colour"):
            write(df, tmp_path / f"u.{fmt}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x00\x01\x02garbage\xff\xfe\x80",
        bytes(range(256)) * 4,
        b"PK\x03\x04broken zip",
        b"\xef\xbb\xbf",
        b"\n\n\n",
        b"just one line without id",
        b'id\n"unterminated',
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_garbage_files_raise_input_error_only(tmp_path: Path, payload: bytes, fmt: str):
    path = tmp_path / f"junk.{fmt}"
    path.write_bytes(payload)
    try:
        FORMATS[fmt][1](path)
    except InputError:
        pass
    else:  # only a well-formed header-only CSV may be read, as an empty frame
        assert fmt == "csv" and payload.startswith(b"id")


def test_newer_export_format_is_refused(tmp_path: Path):
    path = tmp_path / "new.csv"
    path.write_text("# dmtools export format 3\nid\nx1\n", encoding="utf-8")
    with pytest.raises(InputError, match="format 3"):
        read_csv(path)


def test_utf16_tab_separated_text_from_a_spreadsheet_imports(tmp_path: Path):
    path = tmp_path / "unicode.csv"
    path.write_bytes("id\ttitle\r\nx1\tcafé ☕\r\n".encode("utf-16"))
    assert read_csv(path).loc["x1", "title"] == "café ☕"


def test_hand_made_workbook_imports_native_cells(tmp_path: Path):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "title", "published", "views_total", "created_time", "tags"])
    sheet.append(["x1", 123, True, 5.0, datetime(2024, 1, 2, 3, 4, 5), "a, b"])
    sheet.append(["x2", "'literal", "FALSE", "7", "2024-01-02", None])
    book.save(tmp_path / "hand.xlsx")
    df = read_excel(tmp_path / "hand.xlsx")
    assert df.loc["x1", "title"] == "123" and df.loc["x2", "title"] == "'literal"
    assert df["published"].tolist() == [True, False]
    assert df["views_total"].tolist() == [5, 7]
    assert df.loc["x1", "created_time"] == pd.Timestamp("2024-01-02 03:04:05", tz="UTC")
    assert df.loc["x1", "tags"] == ["a", "b"] and df.loc["x2", "tags"] == []


def test_excel_refuses_cells_longer_than_excel_allows(tmp_path: Path):
    df = to_frame([{"id": "x1", "description": "y" * 40_000}], fields=["description"])
    with pytest.raises(InputError, match="32,767") as info:
        write_excel(df, tmp_path / "long.xlsx")
    assert info.value.problems[0].column == "description"
    assert not (tmp_path / "long.xlsx").exists()


def test_export_and_import_pick_the_format_by_suffix(tmp_path: Path):
    df = trap_frame().head(5)
    for name in ("a.csv", "a.xlsx", "a.parquet", "A.CSV"):
        export_frame(df, tmp_path / name)
        fmt = name.lower().rsplit(".", 1)[1]
        pd.testing.assert_frame_equal(import_frame(tmp_path / name), as_in_file(df, fmt))
    with pytest.raises(InputError, match="json"):
        export_frame(df, tmp_path / "a.json")
    with pytest.raises(InputError):
        import_frame(tmp_path / "a.txt")


def test_failed_export_leaves_the_previous_file_untouched(tmp_path: Path):
    path = tmp_path / "v.csv"
    path.write_text("previous", encoding="utf-8")
    df = to_frame([{"id": "x1", "tags": ["a"]}], fields=["tags"])
    df.at["x1", "tags"] = ["\ud800"]  # a lone surrogate (to_frame refuses it)
    with pytest.raises(InputError, match="not valid Unicode"):
        write_csv(df, path)
    assert path.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["v.csv"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_category_values_round_trip_even_formula_like_ones(tmp_path: Path, fmt: str):
    df = to_frame(
        [
            {"id": "x1", "channel": "=evil"},
            {"id": "x2", "channel": "'quoted"},
            {"id": "x3", "channel": "music"},
            {"id": "x4", "channel": None},
        ],
        fields=["channel"],
    )
    write, read = FORMATS[fmt]
    write(df, tmp_path / f"c.{fmt}")
    pd.testing.assert_frame_equal(read(tmp_path / f"c.{fmt}"), df)
