"""The spreadsheet formula policy: nothing a spreadsheet could run, whatever delimiter it
splits a CSV on, and every text read back exactly by dmtools.

A spreadsheet in a ``;`` locale (or one splitting on tabs) does not see the CSV's quoting the
way it was written: after every ``;``, tab, CR or LF it may start a new cell. The policy is in
:mod:`dmtools.frames._filecells`: a ``'`` goes before any text that would start such a cell with
``= + - @``, tab, CR or NUL (after spaces and quotes), and dmtools' readers remove exactly
those.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmtools.frames import read_csv, read_excel, to_frame, write_csv, write_excel

#: After any spaces and double quotes, a character a spreadsheet reads as a formula start.
DANGEROUS = re.compile(r'^[ "]*[=+\-@\t\r\x00]')

PIECES = st.sampled_from(
    ["=", "+", "-", "@", "\t", "\r", "\n", ";", ",", "'", '"', " ", "\x00", "<NA>", "a", "1"]
)
TEXT = st.lists(PIECES | st.text(max_size=3), max_size=14).map("".join)

ATTACKS = [
    'Great video;=HYPERLINK("http://evil.test","click")',
    "tab\t@SUM(A1:A9)",
    "line one\n-2+3",
    "line one\r\n+cmd|' /C calc'!A0",
    "\x00=1+1",
    ' "=1+1',
    'quoted;"=1+1"',
    "a;'=already quoted",
    "x; -2 dB",
    "tags; =in a tag",
]


def cells_a_spreadsheet_could_see(raw: str) -> list[str]:
    """Every cell start a spreadsheet could make of the file: split on each delimiter with
    and without honouring quotes, and at every line break."""
    found = []
    for delimiter in (",", ";", "\t"):
        found += [c for row in csv.reader(io.StringIO(raw), delimiter=delimiter) for c in row]
    found += re.split(r"[,;\t\r\n]", raw)
    return found


@settings(max_examples=300, derandomize=True, deadline=None)
@given(TEXT)
def test_guarding_is_undone_exactly_and_leaves_no_cell_that_starts_a_formula(text: str):
    from dmtools.frames._filecells import guard, unguard

    written = guard(text, inside=True)
    assert unguard(written, inside=True) == text
    pieces = [written, *(written[m.end() :] for m in re.finditer(r"[;\t\r\n]", written))]
    assert not any(DANGEROUS.match(piece) for piece in pieces), repr(written)
    cell = guard(text, inside=False)  # a workbook cell: its start only
    assert unguard(cell, inside=False) == text and not DANGEROUS.match(cell)


@pytest.mark.parametrize("text", ATTACKS)
def test_no_delimiter_turns_an_exported_title_into_a_formula(tmp_path: Path, text: str):
    df = to_frame(
        [{"id": "x1", "title": text, "tags": [text.replace(",", " ").strip() or "t"]}],
        fields=["title", "tags"],
    )
    path = tmp_path / "v.csv"
    write_csv(df, path)
    raw = path.read_text(encoding="utf-8-sig")
    risky = [c for c in cells_a_spreadsheet_could_see(raw) if DANGEROUS.match(c)]
    assert risky == []
    pd.testing.assert_frame_equal(read_csv(path), df)


@pytest.mark.parametrize("text", ATTACKS)
def test_workbook_cells_never_start_a_formula_and_read_back(tmp_path: Path, text: str):
    from openpyxl import load_workbook

    df = to_frame([{"id": "x1", "title": text}], fields=["title"])
    write_excel(df, tmp_path / "v.xlsx")
    sheet = load_workbook(tmp_path / "v.xlsx")["videos"]
    cell = sheet["B2"]
    assert cell.data_type == "s" and not DANGEROUS.match(str(cell.value))
    pd.testing.assert_frame_equal(read_excel(tmp_path / "v.xlsx"), df)
