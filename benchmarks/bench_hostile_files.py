"""Hostile spreadsheets: dmtools' readers vs the whole-sheet / whole-file readings they replace.

Files, each small on disk:

* ``far.xlsx``: two real rows, and 500 rows with one value in the last column (XFD);
* ``sparse.xlsx``: 2,000 rows spread over a million sheet rows, 2 columns;
* ``blank.csv``: a header, 300,000 blank lines, 50,000 rows of empty cells, one video.

Baselines: openpyxl's ``iter_rows(values_only=True)`` after ``reset_dimensions()`` (what the
Excel reader did), and for CSV ``csv.reader`` over the whole decoded text into a list (what
the CSV reader did). dmtools: ``read_excel`` / ``read_csv``. Time is the best of ``--repeat``
runs; memory is the tracemalloc peak of one run.

Run:  .venv/bin/python benchmarks/bench_hostile_files.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dmtools.errors import InputError
from dmtools.frames import read_csv, read_excel


def _workbook(path: Path, cells: dict[str, Any]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for ref, value in cells.items():
        sheet[ref] = value
    book.save(path)
    return path


def make_files(folder: Path) -> dict[str, Path]:
    far: dict[str, Any] = {"A1": "id", "B1": "title", "A2": "x1", "B2": "a"}
    for row in range(3, 100_000, 200):
        far[f"XFD{row}"] = "far away"
    rng = random.Random(7)
    sparse: dict[str, Any] = {"A1": "id", "B1": "views_total"}
    for n, row in enumerate(sorted(rng.sample(range(2, 1_000_000), 2000))):
        sparse[f"A{row}"], sparse[f"B{row}"] = f"x{n}", n
    blank = folder / "blank.csv"
    blank.write_text("id,title\r\n" + "\r\n" * 300_000 + ",,\r\n" * 50_000 + "x1,t\r\n")
    return {
        "far.xlsx": _workbook(folder / "far.xlsx", far),
        "sparse.xlsx": _workbook(folder / "sparse.xlsx", sparse),
        "blank.csv": blank,
    }


def baseline(path: Path) -> int:
    if path.suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        return len(list(csv.reader(io.StringIO(text, newline=""))))
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    sheet.reset_dimensions()
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    return len(rows)


def dmtools_reader(path: Path) -> int:
    try:
        return len(read_csv(path) if path.suffix == ".csv" else read_excel(path))
    except InputError:
        return -1  # far.xlsx: refused, naming the first cell past the column limit


def measure(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    best = min(_timed(call) for _ in range(repeat))
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, peak


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = make_files(Path(folder))
        print(
            f"{'file':<12} {'size':>9}  {'baseline':>18}  {'dmtools':>18}  time ratio  memory ratio"
        )
        for name, path in files.items():
            base_time, base_mem = measure(lambda p=path: baseline(p), args.repeat)
            our_time, our_mem = measure(lambda p=path: dmtools_reader(p), args.repeat)
            print(
                f"{name:<12} {path.stat().st_size:>8,}B  "
                f"{base_time:>7.3f} s {base_mem:>6.1f} MiB  "
                f"{our_time:>7.3f} s {our_mem:>6.1f} MiB  "
                f"{base_time / our_time:>9.1f}x  {base_mem / max(our_mem, 0.01):>11.1f}x"
            )


if __name__ == "__main__":
    main()
