"""Planning speed: the diff of two 100,000-row frames, against the cell-by-cell diff.

Both frames are built by :func:`dmtools.frames.to_frame` from the records of
``bench_frames.make_records`` (every column type, missing values, tag lists). Two cases:
nothing changed (a copy), and one row in ten changed (titles, tag lists reordered or
extended, the private flag), with ids in another order. Each case times
:func:`dmtools.bulk.diff.diff_frames` and the reference diff kept in
``tests/_support/diff_reference.py`` (the planner before it was vectorised; the tests check
both give the same result), interleaved so machine load hits both alike, best of
``--repeat``. ``plan_edits`` (the diff plus building the plan) is timed too.

Run:  .venv/bin/python benchmarks/bench_diff.py [--rows 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import pandas as pd  # noqa: E402
from _machine import describe  # noqa: E402
from _support.diff_reference import diff_frames as reference_diff  # noqa: E402
from bench_frames import make_records  # noqa: E402

from dmtools.bulk import plan_edits  # noqa: E402
from dmtools.bulk.diff import diff_frames  # noqa: E402
from dmtools.frames import to_frame  # noqa: E402
from dmtools.schema import LIMITS_PUBLIC  # noqa: E402

TARGETS = {"nothing changed": 0.2, "10% of rows changed": 0.5}


def edited_copy(df: pd.DataFrame) -> pd.DataFrame:
    """One row in ten changed (a third each: title, tags, private), rows in another order."""
    out = df.sample(frac=1.0, random_state=1)
    rows = out.index[::10]
    titles, tags, flags = rows[0::3], rows[1::3], rows[2::3]
    out.loc[titles, "title"] = out.loc[titles, "title"] + " (new cut)"
    lists = [list(reversed(t)) + ["edited"] for t in out.loc[tags, "tags"]]
    out.loc[tags, "tags"] = pd.Series(lists, index=tags, dtype=object)
    out.loc[flags, "private"] = ~out.loc[flags, "private"].fillna(False)
    return out


def best(repeat: int, runs: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Best wall time of each run (and of its CPU time, under ``name + " cpu"``)."""
    times = {name: float("inf") for name in runs} | {f"{n} cpu": float("inf") for n in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started, cpu = time.perf_counter(), time.process_time()
            run()
            times[name] = min(times[name], time.perf_counter() - started)
            times[f"{name} cpu"] = min(times[f"{name} cpu"], time.process_time() - cpu)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    before = to_frame(make_records(args.rows))
    cases = {"nothing changed": before.copy(), "10% of rows changed": edited_copy(before)}
    print(describe())
    print(
        f"{args.rows:,} rows x {before.shape[1]} columns, pandas {pd.__version__}, best of {args.repeat}"
    )
    print(
        f"{'case':22}{'diff_frames':>12}{'(cpu)':>8}{'reference':>11}{'speed-up':>10}"
        f"{'target':>9}{'':8}{'plan_edits':>11}"
    )
    for case, after in cases.items():
        ours = diff_frames(before, after, LIMITS_PUBLIC)
        theirs = reference_diff(before, after, LIMITS_PUBLIC)
        assert ours.changes == theirs.changes and ours.problems == theirs.problems
        assert len(ours.changes) == (0 if case == "nothing changed" else -(-args.rows // 10))
        times = best(
            args.repeat,
            {
                "diff": lambda after=after: diff_frames(before, after, LIMITS_PUBLIC),
                "reference": lambda after=after: reference_diff(before, after, LIMITS_PUBLIC),
                "plan": lambda after=after: plan_edits(before, after),
            },
        )
        target = TARGETS[case]
        verdict = "met" if times["diff"] < target else "MISSED"
        print(
            f"{case:22}{times['diff']:11.3f}s{times['diff cpu']:7.3f}s{times['reference']:10.3f}s"
            f"{times['reference'] / times['diff']:9.1f}x{target:7.1f} s {verdict}"
            f"{times['plan']:10.3f} s"
        )


if __name__ == "__main__":
    main()
