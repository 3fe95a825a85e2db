"""D-08: fuzzed input files and edited frames give a result or an InputError, never a crash,
and never a network request.

Three seeded generators (``random.Random(f"{target}:{case}")``, so any failing case can be
replayed alone) feed:

* the **CSV reader**: random bytes; hand-made CSV files with trap cells (``NA``, ``=1+1``,
  ``1e400``, lone surrogates, quotes, ``<NA>``...), random separators, encodings, markers and
  ragged rows; byte-level mutations of real dmtools exports;
* the **Excel reader**: random bytes; workbooks with random native cells (numbers, booleans,
  dates, huge integers, formulas, ``NaN``...) and marker sheets; byte-level and XML-level
  mutations of real dmtools workbooks;
* the **plan builder**: valid snapshots and edited copies with random cell values of every
  Python and pandas type, added, dropped and renamed columns, duplicated, missing and foreign
  ids, and edited files given by path.

Each case must end in a value (a frame with the importer's index and dtypes, or an edit plan
whose every operation is on a snapshot video, an editable field and a value the API accepts) or
in a :class:`~dmtools.errors.InputError`. Any other exception is a failure, reported with the
case to replay. A socket-level guard records every connect, send and name lookup; none may
happen. The default tier runs 1,000 cases per target; ``DMTOOLS_EXTENDED=1`` runs 10,000.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import socket
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as ILLEGAL_XML

from dmtools.bulk import EditPlan, plan_edits
from dmtools.bulk.plan import check_plan_values
from dmtools.errors import InputError
from dmtools.frames import conform, read_csv, read_excel, to_frame, write_csv, write_excel
from dmtools.schema import CATEGORIES, LANGUAGES, LIMITS_PUBLIC, VIDEO_FIELDS

EXTENDED = os.environ.get("DMTOOLS_EXTENDED") == "1"
extended = pytest.mark.skipif(not EXTENDED, reason="extended tier: set DMTOOLS_EXTENDED=1")
CASES, EXTENDED_CASES = 1_000, 10_000

COLUMNS = [spec.column for spec in VIDEO_FIELDS.values()]
EDITABLE = [spec.column for spec in VIDEO_FIELDS.values() if spec.editable]
JUNK_COLUMNS = [
    "",
    " ",
    "ID",
    " id",
    "id ",
    "\ufeffid",
    "Title",
    "unknown",
    "owner.screenname",
    "title ",
    "tags\x00",
    "#",
    "0",
    "None",
]
TRAPS = [
    "",
    " ",
    "NA",
    "N/A",
    "null",
    "None",
    "nan",
    "NaN",
    "<NA>",
    "'<NA>",
    "#N/A",
    "TRUE",
    "false",
    "yes",
    "no",
    "0",
    "1",
    "-1",
    "00123",
    "1e5",
    "1e400",
    "-0",
    "inf",
    "-inf",
    "9" * 30,
    "2024-01-02",
    "2024-02-30",
    "2024-01-02T03:04:05Z",
    "1700000000",
    "-99999999999",
    "=1+1",
    "+1",
    "-x",
    "@SUM(A1)",
    "\t=x",
    "\r",
    "'",
    "''",
    '"',
    '""',
    ",",
    ";",
    "\n",
    "\r\n",
    "[",
    "[]",
    '["a", "b"]',
    '["a", 1]',
    '{"a": 1}',
    "[null]",
    "a, b, c",
    " , ,",
    "a,,b",
    "_x000D_",
    "_x0000_",
    "_xD800_",
    "\ufeff",
    "\u202e",
    "é",
    "e\u0301",
    "\U0001f600",
    "\x00",
    "\x1b",
    "\ud800",
    "a\udc80b",
    "\ud83d",
    "x" * 200,
    "FR",
    "fr",
    "music",
    "news",
    "public",
    "ready",
    "deleted",
    "x8abc",
    "true ",
    " 5 ",
    '["\\ud800"]',
]


def text(rng: random.Random, *, surrogates: bool = True) -> str:
    """A trap value, random code points, or a mix of both."""
    roll = rng.random()
    if roll < 0.5:
        value = rng.choice(TRAPS)
    elif roll < 0.8:
        top = 0x10FFFF if rng.random() < 0.3 else 0x3000
        value = "".join(chr(rng.randrange(top)) for _ in range(rng.randrange(12)))
    else:
        value = rng.choice(TRAPS) + rng.choice(TRAPS)
    if not surrogates:
        value = "".join(ch for ch in value if not 0xD800 <= ord(ch) <= 0xDFFF)
    return value


def mutate(rng: random.Random, data: bytes) -> bytes:
    """Flip, insert, delete, duplicate or cut bytes, one to five times."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        at = rng.randrange(len(out) + 1)
        kind = rng.randrange(5)
        if kind == 0 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif kind == 1:
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif kind == 2:
            del out[at : at + rng.randint(1, 16)]
        elif kind == 3:
            out[at:at] = out[max(0, at - 32) : at]
        else:
            del out[at:]
    return bytes(out)


def record(rng: random.Random, i: int) -> dict[str, Any]:
    """A valid API record with a few fields set."""
    return {
        "id": f"x{i}{rng.randrange(1000)}",
        "title": rng.choice(["Hello", "NA", "=1+1", "é", "", "<NA>", "\U0001f600 live"]),
        "description": rng.choice([None, "", "line\r\nbreak", "'quoted", "NULL"]),
        "tags": rng.choice([[], ["a"], ["music", "live"], ["NA", "x y"]]),
        "channel": rng.choice(CATEGORIES),
        "language": rng.choice([None, *sorted(LANGUAGES)[:5]]),
        "private": rng.choice([True, False]),
        "published": rng.choice([True, False]),
        "views_total": rng.choice([None, 0, 3, 2**40]),
        "created_time": rng.choice([None, 0, 1_700_000_000]),
        "status": rng.choice([None, "ready", "processing"]),
    }


def snapshot(rng: random.Random) -> pd.DataFrame:
    names = rng.sample(
        [
            "title",
            "description",
            "tags",
            "channel",
            "language",
            "private",
            "published",
            "views_total",
            "created_time",
            "status",
        ],
        rng.randint(1, 6),
    )
    return to_frame([record(rng, i) for i in range(rng.randint(0, 6))], fields=names)


# -- the network guard ------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Record (and refuse) every connect, datagram send and name lookup."""
    attempts: list[Any] = []

    def refuse(name: str) -> Callable[..., Any]:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append((name, args[1:] if args else ()))
            raise OSError(f"network access during a fuzz test: {name}")

        return blocked

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse(name))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    yield attempts
    assert attempts == [], f"network access during fuzzing: {attempts[:5]}"


def test_the_network_guard_catches_connections(no_network: list[Any]) -> None:
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert [name for name, _ in no_network] == ["getaddrinfo"]
    with socket.socket() as sock, pytest.raises(OSError):
        sock.connect(("127.0.0.1", 9))
    assert len(no_network) == 2
    no_network.clear()  # the guard's own check passes for this test


# -- running cases ----------------------------------------------------------------------------


def run_cases(
    target: str, cases: int, case: Callable[[random.Random, Path], str], tmp_path: Path
) -> dict[str, int]:
    """Run ``cases`` seeded cases; fail listing the first unexpected exceptions."""
    outcomes: dict[str, int] = {}
    failures: list[str] = []
    for i in range(cases):
        rng = random.Random(f"{target}:{i}")
        try:
            outcome = case(rng, tmp_path)
        except InputError:
            outcome = "InputError"
        except Exception as exc:
            failures.append(f'random.Random("{target}:{i}"): {type(exc).__name__}: {exc!r:.300}')
            outcome = "crash"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert not failures, f"{len(failures)} of {cases} cases crashed:\n" + "\n".join(failures[:10])
    return outcomes


# -- CSV --------------------------------------------------------------------------------------


def csv_bytes(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.15:
        return rng.randbytes(rng.randrange(300))
    if kind < 0.35:
        frame = snapshot(rng)
        buffer = io.BytesIO()
        write_frame_csv(frame, buffer)
        return mutate(rng, buffer.getvalue())
    columns = ["id", *rng.sample(COLUMNS[1:], rng.randint(0, 5))]
    if rng.random() < 0.3:
        columns.insert(rng.randrange(len(columns) + 1), rng.choice(JUNK_COLUMNS))
    if rng.random() < 0.1:
        columns.remove("id")
    rows: list[list[str]] = [columns]
    hostile = rng.random() < 0.5  # otherwise: cells a person could well have typed
    for _ in range(rng.randint(0, 6)):
        width = len(columns) + (rng.choice([0, 0, 0, -1, 1, 3]) if hostile else 0)
        rows.append(
            [
                text(rng) if hostile else typed(rng, columns[i % len(columns)])
                for i in range(max(0, width))
            ]
        )
    delimiter = rng.choice([",", ",", ";", "\t"])
    out = io.StringIO()
    marker = rng.choice(
        [
            None,
            None,
            "# dmtools export format 1",
            "# dmtools export format 7",
            "# dmtools export format x",
            '"# dmtools export format 1 junk"',
        ]
    )
    if marker:
        out.write(marker + "\r\n")
    if rng.random() < 0.8:
        quoting: Any = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])
        csv.writer(
            out,
            delimiter=delimiter,
            quoting=quoting,
            lineterminator=rng.choice(["\r\n", "\n", "\r"]),
        ).writerows(rows)
    else:  # no quoting at all: stray quotes and separators inside cells
        out.write("\n".join(delimiter.join(row) for row in rows))
    encoding = rng.choice(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"])
    errors = "surrogatepass" if encoding.startswith("utf-8") else "replace"
    return out.getvalue().encode(encoding, errors=errors)


def typed(rng: random.Random, column: str) -> str:
    """A plausible cell of ``column`` as a spreadsheet would save it."""
    if column == "id":
        return f"x{rng.randrange(50)}"
    value = plausible(rng, column) if column in VIDEO_FIELDS else text(rng)
    if isinstance(value, list):
        return json.dumps(value) if rng.random() < 0.5 else ", ".join(value)
    return "" if value is None else str(value)


def write_frame_csv(frame: pd.DataFrame, buffer: io.BytesIO) -> None:
    path = Path(f"/dev/shm/dmtools-fuzz-{os.getpid()}.csv")
    if not path.parent.is_dir():
        path = Path(f"/tmp/dmtools-fuzz-{os.getpid()}.csv")
    try:
        write_csv(frame, path)
        buffer.write(path.read_bytes())
    finally:
        path.unlink(missing_ok=True)


def check_frame(frame: pd.DataFrame) -> str:
    assert isinstance(frame, pd.DataFrame) and frame.index.name == "id"
    assert set(frame.columns) <= set(COLUMNS)
    pd.testing.assert_frame_equal(conform(frame), frame)
    return "frame"


def csv_case(rng: random.Random, folder: Path) -> str:
    path = folder / "fuzz.csv"
    path.write_bytes(csv_bytes(rng))
    return check_frame(read_csv(path))


def test_fuzzed_csv_files_give_a_frame_or_an_input_error(
    no_network: list[Any], tmp_path: Path
) -> None:
    outcomes = run_cases("csv", CASES, csv_case, tmp_path)
    assert outcomes.get("frame", 0) >= CASES // 10 and outcomes.get("InputError", 0) >= CASES // 10


@extended
def test_fuzzed_csv_files_extended(no_network: list[Any], tmp_path: Path) -> None:
    run_cases("csv", EXTENDED_CASES, csv_case, tmp_path)


# -- Excel ------------------------------------------------------------------------------------

XML_TRAPS = [
    "<v>abc</v>",
    ' t="s"',
    ' t="b"',
    ' t="e"',
    ' t="d"',
    "<v>1e999</v>",
    "<v>-1</v>",
    "<v>99999999</v>",
    "&#0;",
    "&amp;",
    '<c r="A1" t="n"><v>NaN</v></c>',
    '<c r="ZZ0"/>',
    '<row r="0">',
    '<row r="2000000">',
    ' r="XFD1048577"',
    "<is><t>",
    "</t></is>",
    "<f>1+1</f>",
    'state="visible"',
    'sheetId="0"',
    '<sheet name=""/>',
    '<!DOCTYPE x [<!ENTITY a "aaaa">]>',
    "&a;",
    "PK\x03\x04",
    "\x00",
    "",
]


def storable(value: str) -> str:
    """``value`` without what a workbook cannot hold (control characters, lone surrogates)."""
    return ILLEGAL_XML.sub("", value).encode("utf-8", "ignore").decode("utf-8")


def excel_value(rng: random.Random) -> Any:
    roll = rng.randrange(10)
    if roll < 4:
        return storable(text(rng))[:300]
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            1,
            -1,
            2**53 + 1,
            2**63,
            10**30,
            0.5,
            -0.0,
            1e300,
            3.0,
            math.nan,
            math.inf,
            datetime(2024, 1, 2, 3, 4, 5),
            datetime(1900, 1, 1),
            date(2024, 2, 29),
            time(1, 2, 3),
            timedelta(days=2),
            "=1+1",
            "=A1",
            "=1/0",
            "x" * 40_000,
        ]
    )


def excel_bytes(rng: random.Random, pool: list[bytes]) -> bytes:
    from openpyxl import Workbook

    kind = rng.random()
    if kind < 0.1:
        return rng.choice([b"", b"PK\x03\x04", b""]) + rng.randbytes(rng.randrange(300))
    if kind < 0.3:
        return mutate(rng, rng.choice(pool))
    if kind < 0.55:
        return mutate_xml(rng, rng.choice(pool))
    book = Workbook(write_only=True)
    sheets = rng.sample(["videos", "Sheet", "dmtools", "data", "x"], rng.randint(1, 3))
    for name in sheets:
        sheet = book.create_sheet(name)
        if name == "dmtools" and rng.random() < 0.8:
            sheet.append(
                [
                    rng.choice(
                        [
                            "dmtools export format 1",
                            "dmtools export format 42",
                            "dmtools export format",
                            7,
                            None,
                        ]
                    )
                ]
            )
            continue
        columns = ["id", *rng.sample(COLUMNS[1:], rng.randint(0, 5))]
        if rng.random() < 0.3:
            junk = ILLEGAL_XML.sub("", rng.choice(JUNK_COLUMNS))
            columns.insert(rng.randrange(len(columns) + 1), junk)
        for _ in range(rng.randrange(3)):
            sheet.append([])  # blank rows above the header
        sheet.append(columns)
        hostile = rng.random() < 0.5
        for _ in range(rng.randint(0, 5)):
            width = len(columns) + (rng.choice([0, 0, -1, 2]) if hostile else 0)
            row = [
                excel_value(rng) if hostile else storable(typed(rng, columns[i % len(columns)]))
                for i in range(max(0, width))
            ]
            try:
                sheet.append(row)
            except (ValueError, TypeError):  # a value openpyxl itself cannot store
                sheet.append([None] * len(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def mutate_xml(rng: random.Random, workbook: bytes) -> bytes:
    """Rewrite one part of a valid workbook with XML-level damage."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    name = rng.choice([n for n in parts if n.endswith((".xml", ".rels"))])
    body = parts[name].decode("utf-8")
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(body) + 1)
        cut = rng.choice([0, 0, rng.randint(1, 40)])
        body = body[:at] + rng.choice(XML_TRAPS) + body[at + cut :]
    parts[name] = body.encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:
        del parts[rng.choice(list(parts))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for part, data in parts.items():
            target.writestr(part, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Real dmtools workbooks to damage."""
    folder = tmp_path_factory.mktemp("workbooks")
    pool = []
    for i in range(8):
        path = folder / f"w{i}.xlsx"
        write_excel(snapshot(random.Random(f"pool:{i}")), path)
        pool.append(path.read_bytes())
    return pool


def excel_case(pool: list[bytes]) -> Callable[[random.Random, Path], str]:
    def case(rng: random.Random, folder: Path) -> str:
        path = folder / "fuzz.xlsx"
        path.write_bytes(excel_bytes(rng, pool))
        return check_frame(read_excel(path))

    return case


def test_fuzzed_workbooks_give_a_frame_or_an_input_error(
    no_network: list[Any], tmp_path: Path, workbooks: list[bytes]
) -> None:
    outcomes = run_cases("xlsx", CASES, excel_case(workbooks), tmp_path)
    assert outcomes.get("frame", 0) >= CASES // 10 and outcomes.get("InputError", 0) >= CASES // 10


@extended
def test_fuzzed_workbooks_extended(
    no_network: list[Any], tmp_path: Path, workbooks: list[bytes]
) -> None:
    run_cases("xlsx", EXTENDED_CASES, excel_case(workbooks), tmp_path)


# -- the plan builder -------------------------------------------------------------------------

ODD = [
    None,
    pd.NA,
    np.nan,
    pd.NaT,
    math.inf,
    -0.0,
    1e300,
    0,
    1,
    -1,
    2**63,
    10**30,
    True,
    False,
    np.True_,
    np.int64(5),
    np.float32(1.5),
    ["a"],
    ["a, b"],
    [" a"],
    [""],
    ["a", 1],
    [],
    ("a",),
    {"a": 1},
    {"a"},
    b"bytes",
    Decimal("1.5"),
    complex(1, 2),
    datetime(2024, 1, 2),
    datetime(2024, 1, 2, tzinfo=UTC),
    date(2024, 1, 2),
    time(1, 2),
    timedelta(1),
    pd.Timestamp("2024-01-02", tz="Europe/Paris"),
    np.datetime64("2024-01-02"),
    np.datetime64("NaT"),
    object(),
    "x" * 101,
    "x" * 3001,
    ["t"] * 151,
    ["x" * 51],
    np.array(["a", "b"]),
    pd.Series([1]),
]


def cell(rng: random.Random) -> Any:
    return text(rng) if rng.random() < 0.5 else rng.choice(ODD)


def plausible(rng: random.Random, column: str) -> Any:
    """A value a person could well type in ``column`` (valid or nearly so)."""
    kind = VIDEO_FIELDS[column].kind if column in VIDEO_FIELDS else "string"
    if column == "channel":
        return rng.choice([*CATEGORIES, "Music", ""])
    if column == "language":
        return rng.choice([*sorted(LANGUAGES)[:8], "", None, "xx"])
    if kind == "boolean":
        return rng.choice([True, False, "yes", "0", "TRUE", None])
    if kind == "array":
        return rng.choice([[], ["new"], ["a", "b"], "a, b", '["x, y"]', ["A", "a"]])
    if kind in ("integer", "date"):
        return rng.choice([0, 5, "7", 1_700_000_000, None])
    return rng.choice(["New title", "", None, "NA", "=1+1", "é\U0001f600", " padded ", "x" * 99])


def edited_from(rng: random.Random, before: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``before`` with random damage, as object columns or typed ones."""
    ids: list[Any] = list(before.index)
    data = {str(c): before[c].astype(object).tolist() for c in before.columns}
    hostile = rng.random() < 0.5  # otherwise: plausible edits of existing cells only
    for _ in range(rng.randint(0, 6)):
        kind = rng.randrange(10) if hostile else 0
        columns = list(data)
        if kind < 4 and ids and columns:  # one cell
            column = rng.choice(columns)
            value = cell(rng) if hostile else plausible(rng, column)
            data[column][rng.randrange(len(ids))] = value
        elif kind == 4 and ids:  # a duplicated row
            i = rng.randrange(len(ids))
            ids.append(ids[i])
            for values in data.values():
                values.append(values[i])
        elif kind == 5 and ids:  # a dropped row
            i = rng.randrange(len(ids))
            del ids[i]
            for values in data.values():
                del values[i]
        elif kind == 6:  # a new row, with a foreign id
            ids.append(rng.choice([f"new{rng.randrange(9)}", None, "", " ", 5, math.nan]))
            for values in data.values():
                values.append(cell(rng))
        elif kind == 7 and ids:  # a damaged id
            ids[rng.randrange(len(ids))] = rng.choice([None, "", " ", 5, math.nan, " x1", "x1\n"])
        elif kind == 8:  # a column added (known, read-only or unknown) or dropped
            name = rng.choice([*COLUMNS, *JUNK_COLUMNS])
            if name in data and rng.random() < 0.5:
                del data[name]
            else:
                data[name] = [cell(rng) for _ in ids]
        elif columns:  # a column renamed
            data[rng.choice(JUNK_COLUMNS + COLUMNS)] = data.pop(rng.choice(columns))
    frame = pd.DataFrame(data, index=pd.Index(ids, name="id", dtype=object), dtype=object)
    roll = rng.random()
    if roll < 0.3:
        try:
            frame = conform(frame)
        except InputError:
            pass
    elif roll < 0.4 and "id" not in frame.columns:
        frame = frame.reset_index()
    elif roll < 0.45:
        frame.index.name = rng.choice([None, "ID", "video"])
    elif roll < 0.5:
        frame = frame.sample(frac=1.0, random_state=rng.randrange(2**31))
    return frame


def check_plan(plan: EditPlan, before: pd.DataFrame) -> str:
    assert isinstance(plan, EditPlan)
    known = {str(v) for v in before.index}
    for op in plan.ops:
        assert op.video_id in known and op.changes
        assert all(VIDEO_FIELDS[name].editable for name in op.changes)
    check_plan_values(plan, LIMITS_PUBLIC)  # every target is a value the API accepts
    again = EditPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.fingerprint == plan.fingerprint
    return "plan" if plan.ops else "empty plan"


def plan_case(rng: random.Random, folder: Path) -> str:
    roll = rng.random()
    if roll < 0.05:  # not a frame at all, or a snapshot that is not one dmtools made
        before: Any = rng.choice(
            [
                None,
                [],
                {"id": ["x1"]},
                pd.DataFrame({"a": [1]}),
                pd.DataFrame({"id": [None, None], "title": ["a", "b"]}),
            ]
        )
        return check_plan(plan_edits(before, snapshot(rng)), snapshot(rng))
    before = snapshot(rng)
    edited: Any = edited_from(rng, before)
    if roll < 0.2:  # the edited frame comes back from a file
        path = folder / rng.choice(["edited.csv", "edited.xlsx", "edited.csv", "edited.txt"])
        if path.suffix == ".csv" and rng.random() < 0.5:
            path.write_bytes(csv_bytes(rng))
        else:
            try:
                (write_excel if path.suffix == ".xlsx" else write_csv)(edited, path)
            except InputError:
                return "InputError"
        edited = path
    plan = plan_edits(before, edited)
    if not isinstance(edited, Path):
        assert plan_edits(before, edited).fingerprint == plan.fingerprint  # deterministic
    return check_plan(plan, before)


def test_fuzzed_edits_give_a_valid_plan_or_an_input_error(
    no_network: list[Any], tmp_path: Path
) -> None:
    outcomes = run_cases("plan", CASES, plan_case, tmp_path)
    assert outcomes.get("plan", 0) >= CASES // 10 and outcomes.get("InputError", 0) >= CASES // 10


@extended
def test_fuzzed_edits_extended(no_network: list[Any], tmp_path: Path) -> None:
    run_cases("plan", EXTENDED_CASES, plan_case, tmp_path)


# -- what fuzzing found, pinned ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("title", "bad\ud800"),
        ("description", "\udc80"),
        ("tags", ["ok", "bad\ud800"]),
        ("tags", '["\\ud800"]'),
        ("tags", "a, \ud83d"),
        ("channel", "music\ud800"),
    ],
)
def test_a_lone_surrogate_in_an_edited_cell_is_an_input_error_naming_the_cell(
    column: str, value: Any
) -> None:
    before = to_frame(
        [{"id": "x1", "title": "a", "description": "d", "tags": ["a"], "channel": "music"}],
        fields=["title", "description", "tags", "channel"],
    )
    edited = before.astype(object)
    edited.at["x1", column] = value
    with pytest.raises(InputError) as info:
        plan_edits(before, edited)
    assert [(p.row, p.column) for p in info.value.problems] == [("x1", column)]
    assert "Unicode" in info.value.problems[0].reason


def test_frames_refuse_lone_surrogates_in_categories_and_tags() -> None:
    with pytest.raises(InputError) as info:
        to_frame([{"id": "x1", "status": "ready\ud800", "tags": ["\udc00"]}])
    assert sorted(str(p.column) for p in info.value.problems) == ["status", "tags"]
    frame = pd.DataFrame({"id": ["x1"], "channel": ["m\ud800"]}, dtype=object)
    with pytest.raises(InputError, match="Unicode"):
        conform(frame)
