"""Deterministic synthetic audience: the daily and hourly views of every video (no HTTP).

A pure function of (sandbox seed, video id, creation time, ``views_total``, "now"): the same
inputs always give the same numbers, and nothing is stored. For each video, the views of day
``d`` (UTC) between its creation day and today are

    views(d) ∝ ((1 + age/τ)^-α + ε) · weekday(d) · noise(video, d) + spike(d)

* **decay after publication**: a launch peak that fades as a power law (τ 1–14 days,
  α 1.1–1.8 per video) down to an evergreen floor ε (0.4–5.4 % of the launch day);
* **seasonal**: a weekly cycle (weekends about 20 % above mid-week) and a daily curve with
  an evening peak (UTC) for hours;
* **noise**: ±25 % per video and day, from a counter-based hash (no random state);
* **spikes**: about 3 % of the videos go viral once, 3–900 days after creation (8–48 times
  their launch level, fading within a few days);
* **long tail across videos**: inherited from the seeded ``views_total`` (Pareto).

**Exact totals.** The weights are turned into whole views by cumulative rounding: the views
up to day ``d`` are ``round(views_total · Ψ(d) / Ψ(today))`` where ``Ψ`` is the running sum of
the weights, so every day is ≥ 0 and the days from creation to today (UTC) add up to
``views_total`` exactly, whatever the weights. Hours split a day the same way (the hours of
a day add up to the day; today's views all fall in the hours already begun).

**Stable within a day.** The numbers depend on "now" only through today's date: every report
asked during one sandbox day gives the same figures. When the day changes, the fixed
``views_total`` is spread over one more day, so past days may move by a view or so (a real
total would have grown instead). Because the total is an input, a video whose
``views_total`` is edited gets its whole history rescaled: the sum still matches, the shape
(weekday cycle, decay, spike) stays.

**Fast.** ``Ψ`` has a closed form (the decay is integrated, the weekday offset and the noise
telescope, see :func:`_running`), so only the requested window and today are evaluated:
a 10,000-video channel over 180 days is 1.8 million cells, whatever the videos' ages.

Example:
    >>> keys = video_keys(7, ["x1", "x2"])
    >>> m = daily_views(keys, np.array([19000, 19500]), np.array([1000, 0]),
    ...                 now=19600 * DAY + 3600, first=19000, last=19600)
    >>> int(m[0].sum()), int(m[1].sum())
    (1000, 0)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

DAY = 86400
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
KeyArray = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]

#: Weekday factors, Monday to Sunday (1970-01-01, day 0, was a Thursday).
WEEKDAY = np.array([0.94, 0.92, 0.94, 0.97, 1.04, 1.13, 1.16])
#: Share of a day's views per UTC hour (an evening peak around 19-21 UTC).
DIURNAL = np.array(
    [2.2, 1.5, 1.1, 0.9, 0.9, 1.1, 1.6, 2.4, 3.2, 3.7, 4.0, 4.3]
    + [4.6, 4.7, 4.7, 4.8, 5.1, 5.6, 6.3, 7.0, 7.3, 6.9, 5.5, 3.7]
)
DIURNAL = DIURNAL / DIURNAL.sum()
#: The weekly cycle as a telescoping offset: day d's weight gets WEEKDAY[d] - 1 (centred).
_WEEKLY = np.cumsum(WEEKDAY / WEEKDAY.mean() - 1.0)
_WEEKLY = _WEEKLY - _WEEKLY.mean()
#: Day-to-day decay of a spike.
_DECAY = float(np.exp(-1.0 / 1.5))

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def video_keys(seed: int, video_ids: Iterable[str]) -> KeyArray:
    """One 64-bit key per video: every number of a video derives from its key."""
    keys = [
        int.from_bytes(hashlib.blake2b(f"{seed}:{v}".encode(), digest_size=8).digest(), "little")
        for v in video_ids
    ]
    return np.array(keys, dtype=np.uint64)


def uniform(keys: KeyArray, salt: int, counter: npt.ArrayLike = 0) -> FloatArray:
    """Uniform numbers in [0, 1) for (key, salt, counter), elementwise (splitmix64)."""
    with np.errstate(over="ignore"):
        x = keys + np.uint64(salt) * _GOLDEN
        x = x + np.asarray(counter).astype(np.uint64) * _M2
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def cumulative_round(weights: FloatArray, totals: IntArray) -> IntArray:
    """Whole numbers per row of ``weights`` (2-D, ≥ 0) adding up to ``totals`` exactly.

    Rows whose weights are all zero get everything in their last column.
    """
    running = np.cumsum(weights, axis=1)
    whole = running[:, -1:]
    safe = np.where(whole > 0, whole, 1.0)
    share = np.where(whole > 0, running / safe, 1.0)
    upto = np.floor(totals[:, None] * share + 0.5).astype(np.int64)
    upto[:, -1] = totals
    return np.diff(upto, axis=1, prepend=0)


def _params(keys: KeyArray) -> dict[str, FloatArray]:
    spiky = uniform(keys, 4) < 0.03
    return {
        "tau": 1.0 + 13.0 * uniform(keys, 1),
        "alpha": 1.1 + 0.7 * uniform(keys, 2),
        "floor": 0.004 + 0.05 * uniform(keys, 3) ** 2,
        "spike_age": np.where(spiky, 3.0 + np.floor(uniform(keys, 5) * 2600.0), -1.0),
        "spike_size": 8.0 + 40.0 * uniform(keys, 6),
    }


def _smooth_upto(p: dict[str, FloatArray], age: FloatArray) -> FloatArray:
    """H(a): the smooth weight of ages 0..a (closed form; 0 for a < 0)."""
    tau, alpha = p["tau"], p["alpha"]
    decay = tau / (1.0 - alpha) * (np.exp((1.0 - alpha) * np.log1p((age + 1.0) / tau)) - 1.0)
    return np.where(age >= 0, decay + p["floor"] * (age + 1.0), 0.0)


def _running(keys: KeyArray, p: dict[str, FloatArray], start: IntArray, ages: FloatArray) -> Any:
    """Ψ(a), the running weight up to each age of ``ages[:, 1:]`` (0 before creation).

    ``ages`` holds consecutive ages per row (clamped to ≥ -1), one more column in front.
    Ψ(a) = H(a) + h(a)·c(a) + spikes up to a, where h(a) = H(a) - H(a-1) and c(a) (weekday
    offset plus noise, |c| ≤ 0.25) telescopes: a day's weight h(a)(1 + c(a)) - h(a-1)·c(a-1)
    stays positive because h falls by less than a factor 3 from one day to the next.
    """
    smooth = _smooth_upto(p, ages)
    h = np.diff(smooth, axis=1)
    age = ages[:, 1:]
    day = start + age.astype(np.int64)
    wobble = _WEEKLY[(day + 3) % 7] + 0.16 * (uniform(keys, 7, day) - 0.5)
    since = age - p["spike_age"]
    spikes = p["spike_size"] * (1.0 - _DECAY ** (np.maximum(since, 0.0) + 1.0)) / (1.0 - _DECAY)
    spiked = (p["spike_age"] >= 0) & (since >= 0)
    return np.where(age >= 0, smooth[:, 1:] + h * wobble + np.where(spiked, spikes, 0.0), 0.0)


def daily_views(
    keys: KeyArray,
    created_days: IntArray,
    totals: IntArray,
    *,
    now: float,
    first: int,
    last: int,
) -> IntArray:
    """Views per (video, day) for the days ``first..last`` (day numbers since 1970-01-01).

    Only the window and today are evaluated (the running weight has a closed form), so the
    cost does not depend on how old the videos are.

    Args:
        keys: :func:`video_keys` of the videos.
        created_days: each video's creation day (``created_time // DAY``).
        totals: each video's ``views_total`` (the sum of its days up to ``now``).
        now: the sandbox's "now" (Unix seconds): no views after it.
        first, last: the window, both ends included.

    Returns:
        An int64 matrix, one row per video, one column per day of the window.
    """
    today = int(now // DAY)
    totals = np.asarray(totals, dtype=np.int64)
    start = np.minimum(np.asarray(created_days, dtype=np.int64), today)[:, None]
    p = {name: values[:, None] for name, values in _params(keys).items()}
    k = keys[:, None]
    near = (today - start + np.arange(-1, 1)[None, :]).astype(np.float64)
    whole = _running(k, p, start, np.maximum(near, -1.0))
    days = np.arange(first - 2, last + 1, dtype=np.int64)[None, :]
    ages = np.minimum(days - start, today - start).astype(np.float64)
    share = np.where(
        days[:, 1:] >= today, 1.0, _running(k, p, start, np.maximum(ages, -1.0)) / whole
    )
    upto = np.floor(totals[:, None] * share + 0.5).astype(np.int64)
    return np.diff(upto, axis=1)


def hourly_split(
    keys: KeyArray, video: IntArray, day: IntArray, views: IntArray, *, now: float
) -> IntArray:
    """The views of (video, day) rows split into 24 UTC hours (rows × 24, sums kept).

    Hours of today after ``now`` get nothing.
    """
    hours = np.arange(24, dtype=np.int64)
    noise = 0.8 + 0.4 * uniform(keys[video][:, None], 8, day[:, None] * 24 + hours[None, :])
    weights = DIURNAL[None, :] * noise
    today, hour_now = int(now // DAY), int(now % DAY // 3600)
    weights[(day == today)[:, None] & (hours[None, :] > hour_now)] = 0.0
    return cumulative_round(weights, views)
