"""Report test data: a random channel with the loaded-frame dtypes, the PNG signature."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dmtools.schema import CATEGORIES

#: The first bytes of every PNG file.
PNG = b"\x89PNG\r\n\x1a\n"
#: The day the random channel is seen from.
AS_OF = pd.Timestamp("2025-01-01T00:00:00Z")
_WORDS = np.array("music news sport travel food cats review live tutorial vlog diy art".split())


def random_channel(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` videos with the loaded-frame dtypes: long-tailed views, 17 categories, NAs here and there."""
    rng = np.random.default_rng(seed)
    created = AS_OF - pd.to_timedelta(rng.integers(0, 5 * 365 * 86400, n), unit="s")
    views = np.floor(rng.pareto(1.1, n) * 30).astype("int64")
    k = rng.integers(0, 5, n)
    start = rng.integers(0, len(_WORDS), n)
    ring = _WORDS.tolist() * 2
    tags = [ring[s : s + c] for s, c in zip(start.tolist(), k.tolist(), strict=True)]
    frame = pd.DataFrame(
        {
            "title": pd.array(
                [f"Video {i} about {_WORDS[i % len(_WORDS)]}" for i in range(n)], dtype="string"
            ),
            "description": pd.array(
                np.where(rng.uniform(size=n) < 0.1, "", "Some text"), dtype="string"
            ),
            "tags": pd.Series(tags, dtype=object).to_numpy(),
            "channel": pd.Categorical(rng.choice(CATEGORIES, n), categories=CATEGORIES),
            "language": pd.array(
                rng.choice(["en", "fr", "es", "de", "it", "ja"], n), dtype="string"
            ),
            "published": pd.array(rng.uniform(size=n) > 0.03, dtype="boolean"),
            "private": pd.array(rng.uniform(size=n) < 0.05, dtype="boolean"),
            "status": pd.Categorical(np.full(n, "published", dtype=object)),
            "owner_screenname": pd.array(["Test Channel"] * n, dtype="string"),
            "created_time": created,
            "updated_time": created,
            "duration": pd.array(rng.integers(5, 5000, n), dtype="Int64"),
            "views_total": pd.array(views, dtype="Int64"),
            "likes_total": pd.array(views // 40, dtype="Int64"),
            "comments_total": pd.array(views // 300, dtype="Int64"),
        },
        index=pd.Index([f"x{i:06x}" for i in range(n)], name="id", dtype="string"),
    )
    if n:
        frame.loc[frame.index[0], ["duration", "views_total"]] = pd.NA
        frame.loc[frame.index[-1], "language"] = pd.NA
    return frame
