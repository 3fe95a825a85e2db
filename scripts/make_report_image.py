"""Render the channel report of a realistic synthetic channel and save the README picture.

Usage::

    .venv/bin/python scripts/make_report_image.py [--videos 1500] [--seed 7] [--out docs/images]

Writes ``channel_report.png`` (the overview figure) into ``--out``; with ``--html`` also the
full HTML report and its chart PNGs. The channel is generated here (no API, no sandbox):
long-tailed views, 17 categories, several languages, tags, some private or unpublished
videos, uploads over five years.
"""

from __future__ import annotations

import argparse
import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from dmtools.schema import CATEGORIES

AS_OF = pd.Timestamp("2025-06-01T12:00:00Z")
_WORDS = (
    "how to make the best homemade pizza in 10 minutes|street food tour of bangkok at night|"
    "my first marathon full race vlog|unboxing the new phone honest review|top 10 goals of the "
    "season|learn guitar chords for beginners lesson|relaxing piano music for study and sleep|"
    "building a tiny house from scratch|we tried the spiciest noodles challenge|breaking news "
    "evening bulletin|cute cats compilation you will love|road trip across iceland in winter|"
    "speedrun world record attempt|easy watercolor painting tutorial|behind the scenes of our "
    "short film|morning routine that changed my life|electric car long term test drive|science "
    "explained black holes in five minutes|live concert highlights summer tour|kids songs and "
    "nursery rhymes sing along"
).split("|")
_TAGS = ("music tutorial travel food review vlog gaming news sport football cooking diy cats "
         "dogs funny kids education science tech cars art piano guitar live concert trailer "
         "comedy fitness health interview documentary asmr nature drone city beach mountain "
         "recipe vegan baking fashion makeup unboxing phone laptop ev formula1 tennis basketball "
         "anime animation shortfilm behindthescenes podcast history space physics chemistry "
         "lesson beginner howto challenge prank reaction highlights goals speedrun minecraft "
         "retro indie jazz rock pop hiphop classical lofi study sleep relax").split()
_LANGS = ("en", "fr", "es", "de", "it", "pt", "ja", "ar", "nl", "tr", "pl", "ko")
_LANG_P = (0.46, 0.19, 0.1, 0.06, 0.045, 0.04, 0.03, 0.02, 0.015, 0.015, 0.015, 0.01)


def synthetic_channel(videos: int = 1500, seed: int = 7, as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    """A channel frame with the dtypes of ``dmtools.frames.to_frame`` (index ``id``)."""
    rng = np.random.default_rng(seed)
    n = videos
    alphabet = np.array(list(string.ascii_lowercase + string.digits))
    ids = ["x" + "".join(rng.choice(alphabet, 6)) + f"{i:x}" for i in range(n)]

    # Uploads get more frequent over five years; a few share the same second.
    span = 5 * 365 * 86400
    ages = span * (1 - np.sqrt(rng.uniform(0, 1, n)))
    created = as_of - pd.to_timedelta(np.sort(ages)[::-1].astype("int64"), unit="s")
    created = created.floor("s")
    same = rng.choice(n - 1, max(n // 300, 1), replace=False)
    created_arr = created.to_numpy().copy()
    created_arr[same + 1] = created_arr[same]
    created_ts = pd.DatetimeIndex(created_arr, tz="UTC")

    titles = []
    episodes: dict[str, int] = {}
    for _ in range(n):
        base = _WORDS[rng.integers(len(_WORDS))]
        episodes[base] = episodes.get(base, 0) + 1
        kind = rng.uniform()
        if kind < 0.6:
            title = f"{base.capitalize()} #{episodes[base]}"
        elif kind < 0.9:
            extra = rng.choice(["Part 2", "Full Episode", "Official", "Best of", "4K"])
            title = f"{base.title()} | {extra} ({episodes[base]})"
        elif kind < 0.97:
            title = base.capitalize()  # the same title again: duplicates to find
        else:
            title = f"{base.capitalize()} — " + " ".join(rng.choice(_TAGS, 16))  # too long
        titles.append(title)

    category_p = 0.9 * rng.dirichlet(np.full(len(CATEGORIES), 0.6)) + 0.1 / len(CATEGORIES)
    tag_p = 1 / np.arange(1, len(_TAGS) + 1) ** 0.9
    tag_p /= tag_p.sum()
    tags: list[list[str]] = []
    for _ in range(n):
        k = rng.choice([0, 1, 2, 3, 4, 5, 6, 8], p=[0.07, 0.08, 0.15, 0.2, 0.2, 0.15, 0.1, 0.05])
        tags.append(list(rng.choice(_TAGS, size=k, replace=False, p=tag_p)))

    age_days = np.maximum((as_of - created_ts).total_seconds().to_numpy() / 86400, 1)
    base_views = rng.lognormal(mean=5.0, sigma=2.1, size=n) * np.log1p(age_days) / 3
    views = np.where(rng.uniform(size=n) < 0.04, 0, np.round(base_views)).astype("int64")
    likes = rng.binomial(views, rng.uniform(0.005, 0.05, n))
    comments = rng.binomial(views, rng.uniform(0.0005, 0.006, n))
    recent = np.clip(30 / age_days, 0.02, 1)
    month = rng.binomial(views, recent)
    private = rng.uniform(size=n) < 0.05
    published = rng.uniform(size=n) > 0.03
    status = np.where(rng.uniform(size=n) < 0.98, "published", "ready").astype(object)
    status[-3:] = "processing"
    described = rng.uniform(size=n) > 0.08

    frame = pd.DataFrame(
        {
            "title": pd.array(titles, dtype="string"),
            "description": pd.array([f"About: {t}" if d else "" for t, d in zip(titles, described, strict=True)],
                                    dtype="string"),
            "tags": pd.Series(tags, dtype=object).to_numpy(),
            "channel": pd.Categorical(rng.choice(CATEGORIES, n, p=category_p), categories=CATEGORIES),
            "language": pd.array(rng.choice(_LANGS, n, p=_LANG_P), dtype="string"),
            "published": pd.array(published, dtype="boolean"),
            "private": pd.array(private, dtype="boolean"),
            "is_created_for_kids": pd.array(rng.uniform(size=n) < 0.05, dtype="boolean"),
            "status": pd.Categorical(status),
            "owner": pd.array(["x2demo"] * n, dtype="string"),
            "owner_screenname": pd.array(["Demo Channel"] * n, dtype="string"),
            "created_time": created_ts,
            "updated_time": created_ts + pd.to_timedelta(rng.integers(0, 86400 * 30, n), unit="s"),
            "duration": pd.array(np.round(rng.lognormal(5.8, 0.9, n)).astype("int64"), dtype="Int64"),
            "views_total": pd.array(views, dtype="Int64"),
            "views_last_month": pd.array(month, dtype="Int64"),
            "likes_total": pd.array(likes, dtype="Int64"),
            "comments_total": pd.array(comments, dtype="Int64"),
        },
        index=pd.Index(ids, name="id"),
    )
    frame["updated_time"] = frame["updated_time"].where(frame["updated_time"] <= as_of, as_of)
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "images")
    parser.add_argument("--html", action="store_true", help="also keep the HTML report in --out")
    args = parser.parse_args()

    from dmtools.report import channel_report

    df = synthetic_channel(args.videos, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        where = args.out if args.html else Path(tmp)
        result = channel_report(df, where / "channel_report.html", title="Demo Channel",
                                as_of=AS_OF, png_dir=where / "channel_report_png")
        (args.out / "channel_report.png").write_bytes(result.overview_png.read_bytes())
    print(f"wrote {args.out / 'channel_report.png'}")


if __name__ == "__main__":
    main()
