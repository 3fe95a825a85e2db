"""Build a 100,000-video frame from API records: dmtools.frames.to_frame vs a naive baseline.

The baseline is what one writes by hand: ``pd.DataFrame(records)`` then ``astype`` /
``to_datetime`` / categorical conversion to reach the same dtypes. Both run in this process
on the same records; memory is measured in a fresh subprocess per variant so peaks do not mix.

Memory figures: ``tracemalloc`` peak (Python and NumPy allocations) and the Arrow memory
pool's peak (pyarrow-backed strings allocate there, invisible to tracemalloc).

Run:  .venv/bin/python benchmarks/bench_frames.py [--rows 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from dmtools import schema
from dmtools.frames import to_frame

WORDS = (
    "live",
    "music",
    "news",
    "cats",
    "tutorial",
    "review",
    "vlog",
    "highlights",
    "trailer",
    "podcast",
    "remix",
    "interview",
    "goal",
    "recipe",
    "travel",
)


def make_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        maybe = rng.random() < 0.05
        records.append(
            {
                "id": f"x{i:07x}",
                "title": " ".join(rng.choices(WORDS, k=rng.randint(2, 8))).capitalize(),
                "description": None
                if maybe
                else " ".join(rng.choices(WORDS, k=rng.randint(0, 40))),
                "tags": rng.sample(WORDS, rng.randint(0, 6)),
                "channel": rng.choice(schema.CATEGORIES),
                "language": None if maybe else rng.choice(("en", "fr", "de", "es")),
                "published": rng.random() < 0.9,
                "private": rng.random() < 0.1,
                "is_created_for_kids": False,
                "status": rng.choice(("published", "ready", "processing")),
                "owner": "xowner1",
                "owner.screenname": "Demo channel",
                "created_time": 1_300_000_000 + rng.randint(0, 400_000_000),
                "updated_time": 1_700_000_000 + rng.randint(0, 10_000_000),
                "duration": rng.randint(5, 7200),
                "views_total": int(rng.paretovariate(1.2) * 10),
                "likes_total": None if maybe else rng.randint(0, 1000),
            }
        )
    return records


def naive(records: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(records).set_index("id")
    df.index = df.index.astype("string")
    df.columns = [c.replace(".", "_") for c in df.columns]
    kinds = {spec.column: spec for spec in schema.VIDEO_FIELDS.values()}
    for column in df.columns:
        spec = kinds[column]
        if spec.dtype.startswith("datetime64"):
            df[column] = pd.to_datetime(df[column], unit="s", utc=True)
        elif spec.dtype == "category":
            order = schema.CATEGORIES if column == "channel" else sorted(spec.choices or ())
            df[column] = df[column].astype(pd.CategoricalDtype(list(order)))
        elif spec.dtype != "object":
            df[column] = df[column].astype(spec.dtype)
    return df


VARIANTS = {"to_frame": to_frame, "naive": naive}


def measure_memory(variant: str, rows: int) -> dict[str, float]:
    import pyarrow as pa

    records = make_records(rows)
    pool = pa.default_memory_pool()
    arrow_before = pool.bytes_allocated()
    tracemalloc.start()
    frame = VARIANTS[variant](records)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "tracemalloc_peak_mb": peak / 2**20,
        "arrow_peak_mb": (pool.max_memory() - arrow_before) / 2**20,
        "frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory-of", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of:
        print(json.dumps(measure_memory(args.memory_of, args.rows)))
        return
    records = make_records(args.rows)
    times = {name: float("inf") for name in VARIANTS}
    for _ in range(args.repeat):  # interleaved, so load on the machine hits both alike
        for name, build in VARIANTS.items():
            started = time.perf_counter()
            build(records)
            times[name] = min(times[name], time.perf_counter() - started)
    ours = to_frame(records)
    base = naive(records)
    assert ours.shape == base.shape and ours.index.tolist() == base.index.tolist()
    memory = {}
    for name in VARIANTS:
        out = subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--memory-of", name],
            capture_output=True,
            text=True,
            check=True,
        )
        memory[name] = json.loads(out.stdout)
    print(f"pandas {pd.__version__}, {args.rows:,} records, best of {args.repeat}")
    print(f"{'':24}{'to_frame':>12}{'naive':>12}{'ratio':>8}")
    rows = [("build time (s)", times["to_frame"], times["naive"])]
    for key, label in (
        ("tracemalloc_peak_mb", "tracemalloc peak (MiB)"),
        ("arrow_peak_mb", "arrow pool peak (MiB)"),
        ("frame_mb", "frame size (MiB)"),
    ):
        rows.append((label, memory["to_frame"][key], memory["naive"][key]))
    for label, mine, theirs in rows:
        ratio = mine / theirs if theirs else float("nan")
        print(f"{label:24}{mine:12.3f}{theirs:12.3f}{ratio:8.2f}")


if __name__ == "__main__":
    main()
