"""Where views come from: countries, devices, placements, playlists, actions (no HTTP).

Each :class:`Group` splits a video's views over a few categories with shares that are
deterministic per video (a global mix, perturbed per video; a video's own country weighs
more). :func:`split` apportions whole views per row with cumulative rounding, so the parts
add up to the row exactly; watch time and completions follow the views (weighted by the
device's watch factor) and earnings follow the views weighted by the category's revenue per
mille, so every total is kept by every split. Groups are always applied in the order of
:data:`GROUPS`, whatever the order of the requested dimensions.

The placement group ties together the traffic dimensions (domain group, subdomain, page,
publisher, player): a view happens on a page of a site, in a player of a publisher. Each
channel has a Dailymotion watch page (desktop and mobile), two placements on its own site
(an article player and a homepage carousel) and a third-party embed.

Example:
    >>> [g.name for g in GROUPS]
    ['geo', 'device', 'placement', 'playlist', 'action']
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dmtools.sandbox.state.reporting.audience import (
    BoolArray,
    FloatArray,
    IntArray,
    KeyArray,
    cumulative_round,
    uniform,
)

COUNTRIES = tuple(
    "FR US GB DE ES IT BR CA BE CH JP IN MX NL MA DZ TN SN CI PL AU AR KR SE PT".split()
)
_COUNTRY_MIX = np.array(
    [16, 14, 7, 6, 5, 5, 4, 3, 3, 2, 3, 4, 2, 2, 2, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1], dtype=float
)
COUNTRY_RPM = np.array(
    [2.4, 4.0, 3.2, 2.8, 1.9, 1.8, 0.9, 3.1, 2.3, 3.4, 2.6, 0.4, 0.8, 2.6, 0.5, 0.4]
    + [0.4, 0.3, 0.3, 1.1, 3.0, 0.6, 1.9, 2.7, 1.4]
)
DEVICES = ("desktop", "mobile", "tablet", "tv")
_DEVICE_MIX = np.array([38.0, 48.0, 8.0, 6.0])
DEVICE_WATCH = np.array([1.1, 0.85, 1.0, 1.35])
DEVICE_RPM = np.array([1.1, 0.9, 1.0, 1.4])
ACTIONS = ("click_to_play", "autoplay")
PLAYLISTS_PER_CHANNEL = 4
_PLAYLIST_NAMES = ("Best of", "Latest uploads", "Behind the scenes", "Top picks")
#: (domain group, subdomain, page URL, publisher is the channel, player) per placement;
#: ``{u}`` is the channel's username, ``{v}`` the video id.
PLACEMENTS = (
    ("dailymotion.com", "www.dailymotion.com", "https://www.dailymotion.com/video/{v}", True,
     "Dailymotion watch page"),
    ("dailymotion.com", "m.dailymotion.com", "https://m.dailymotion.com/video/{v}", True,
     "Dailymotion mobile page"),
    ("{u}.example", "www.{u}.example", "https://www.{u}.example/articles/{v}", True,
     "Article player"),
    ("{u}.example", "www.{u}.example", "https://www.{u}.example/", True, "Homepage carousel"),
    ("partner-news.example", "news.partner-news.example",
     "https://news.partner-news.example/embed/{v}", False, "Partner player"),
)  # fmt: skip
_PLACEMENT_MIX = np.array([34.0, 22.0, 20.0, 9.0, 15.0])
#: Placements that are embeds (product ``EMBED``) and on the channel's own site
#: (monetization type ``WEBSITE_MONETIZATION``).
EMBED_PLACEMENTS = (2, 3, 4)
WEBSITE_PLACEMENTS = (2, 3)
PARTNER_PUBLISHER = ("x5pnews", "partner-news")


@dataclass(frozen=True)
class Group:
    """A way to split views: its dimensions and its salt (for per-video shares)."""

    name: str
    dims: tuple[str, ...]
    salt: int


GROUPS = (
    Group("geo", ("VISITOR_COUNTRY",), 20),
    Group("device", ("VISITOR_DEVICE_TYPE",), 21),
    Group(
        "placement",
        (
            "VISITOR_DOMAIN_GROUP",
            "VISITOR_SUBDOMAIN",
            "VISITOR_PAGE_URL",
            "PUBLISHER_ID",
            "PUBLISHER_CHANNEL",
            "PLAYER_ID",
            "PLAYER_TITLE",
        ),
        22,
    ),
    Group("playlist", ("PLAYLIST_ID", "PLAYLIST_TITLE", "VIDEO_POSITION"), 23),
    Group("action", ("ACTION",), 24),
)
GROUP_OF = {dim: group for group in GROUPS for dim in group.dims}


def xid(*parts: object) -> str:
    """A stable Dailymotion-looking id (``x`` + 6 characters) for synthetic objects."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    number, alphabet, out = (
        int.from_bytes(digest, "little"),
        "0123456789abcdefghijklmnopqrstuvwxyz",
        "",
    )
    for _ in range(6):
        number, rest = divmod(number, 36)
        out += alphabet[rest]
    return "x" + out


def _mix(keys: KeyArray, salt: int, base: FloatArray) -> FloatArray:
    """Per-video shares around ``base`` (each weight times 0.4-1.6), rows summing to 1."""
    noise = 0.4 + 1.2 * uniform(keys[:, None], salt, np.arange(len(base))[None, :])
    weights = base[None, :] * noise
    return weights / weights.sum(axis=1, keepdims=True)


class Catalogue:
    """The videos of one report and their per-group shares and dimension values.

    Args:
        keys: :func:`~dmtools.sandbox.state.reporting.audience.video_keys` of the videos.
        videos: the stored video records, in the same order.
        usernames: owner id -> username (the channel slug).
    """

    def __init__(
        self, keys: KeyArray, videos: Sequence[Mapping[str, Any]], usernames: Mapping[str, str]
    ) -> None:
        self.keys = keys
        self.videos = videos
        self.usernames = usernames
        self._playlists = self._playlist_members()

    # -- shares ------------------------------------------------------------------------
    def shares(self, group: Group) -> FloatArray:
        """Videos × categories shares of ``group`` (rows sum to 1)."""
        if group.name == "geo":
            home = np.array(
                [COUNTRIES.index(v["country"]) if v.get("country") in COUNTRIES else -1
                 for v in self.videos]
            )  # fmt: skip
            base = _mix(self.keys, group.salt, _COUNTRY_MIX)
            boost = np.ones_like(base)
            boost[np.arange(len(home))[home >= 0], home[home >= 0]] = 6.0
            weights = base * boost
            return weights / weights.sum(axis=1, keepdims=True)
        if group.name == "device":
            return _mix(self.keys, group.salt, _DEVICE_MIX)
        if group.name == "placement":
            return _mix(self.keys, group.salt, _PLACEMENT_MIX)
        if group.name == "action":
            return _mix(self.keys, group.salt, np.array([70.0, 30.0]))
        member = np.array([[pos > 0 for pos in row] for row in self._playlists], dtype=float)
        member = member.reshape(len(self.videos), PLAYLISTS_PER_CHANNEL)
        weights = np.hstack([np.full((len(self.videos), 1), 3.0), member])
        weights *= 0.5 + uniform(self.keys[:, None], group.salt, np.arange(5)[None, :])
        return weights / weights.sum(axis=1, keepdims=True)

    @staticmethod
    def watch_factor(group: Group) -> FloatArray | None:
        return DEVICE_WATCH if group.name == "device" else None

    @staticmethod
    def rpm_factor(group: Group) -> FloatArray | None:
        return {"geo": COUNTRY_RPM, "device": DEVICE_RPM}.get(group.name)

    def expected(self, factor: FloatArray, group: Group) -> FloatArray:
        """Per video, the share-weighted mean of a per-category factor."""
        return self.shares(group) @ factor

    # -- values ------------------------------------------------------------------------
    def values(self, dim: str) -> list[list[Any]]:
        """Videos × categories values of a group dimension (None: no value)."""
        group = GROUP_OF[dim]
        if group.name == "geo":
            return [list(COUNTRIES)] * len(self.videos)
        if group.name == "device":
            return [list(DEVICES)] * len(self.videos)
        if group.name == "action":
            return [list(ACTIONS)] * len(self.videos)
        if group.name == "placement":
            return [self._placement_values(v, dim) for v in self.videos]
        return [self._playlist_values(i, v, dim) for i, v in enumerate(self.videos)]

    def _placement_values(self, video: Mapping[str, Any], dim: str) -> list[Any]:
        owner = str(video["owner"])
        user = self.usernames.get(owner, owner)
        out: list[Any] = []
        for k, (domain, sub, page, own, player) in enumerate(PLACEMENTS):
            publisher = (owner, user) if own else PARTNER_PUBLISHER
            value = {
                "VISITOR_DOMAIN_GROUP": domain,
                "VISITOR_SUBDOMAIN": sub,
                "VISITOR_PAGE_URL": page,
                "PUBLISHER_ID": publisher[0],
                "PUBLISHER_CHANNEL": publisher[1],
                "PLAYER_ID": xid("player", publisher[0], k),
                "PLAYER_TITLE": player,
            }[dim]
            out.append(value.format(u=user, v=video["id"]))
        return out

    def _playlist_members(self) -> list[list[int]]:
        """Per video, its 1-based position in each of its channel's playlists (0: absent)."""
        positions = [[0] * PLAYLISTS_PER_CHANNEL for _ in self.videos]
        inside = uniform(self.keys[:, None], 30, np.arange(PLAYLISTS_PER_CHANNEL)[None, :]) < 0.3
        order = sorted(range(len(self.videos)), key=lambda i: (
            self.videos[i]["owner"], self.videos[i]["created_time"], self.videos[i]["id"]))  # fmt: skip
        counters: dict[tuple[str, int], int] = {}
        for i in order:
            for p in range(PLAYLISTS_PER_CHANNEL):
                if inside[i, p]:
                    key = (str(self.videos[i]["owner"]), p)
                    counters[key] = counters.get(key, 0) + 1
                    positions[i][p] = counters[key]
        return positions

    def _playlist_values(self, i: int, video: Mapping[str, Any], dim: str) -> list[Any]:
        owner = str(video["owner"])
        out: list[Any] = [None]  # views outside any playlist
        for p, position in enumerate(self._playlists[i]):
            if dim == "PLAYLIST_ID":
                out.append(xid("playlist", owner, p))
            elif dim == "PLAYLIST_TITLE":
                out.append(f"{_PLAYLIST_NAMES[p]} ({self.usernames.get(owner, owner)})")
            else:
                out.append(position or None)
        return out


@dataclass
class Rows:
    """Additive report rows: video index, time index, categories, and additive metrics."""

    video: IntArray
    time: IntArray
    views: IntArray
    watch: IntArray
    completions: IntArray
    earnings: FloatArray
    cats: dict[str, IntArray]

    def take(self, keep: Any) -> Rows:
        return Rows(
            self.video[keep],
            self.time[keep],
            self.views[keep],
            self.watch[keep],
            self.completions[keep],
            self.earnings[keep],
            {name: codes[keep] for name, codes in self.cats.items()},
        )


def split(
    rows: Rows,
    group: Group,
    shares: FloatArray,
    *,
    watch: FloatArray | None = None,
    rpm: FloatArray | None = None,
    allowed: BoolArray | None = None,
    chunk: int = 200_000,
) -> Rows:
    """``rows`` split over the categories of ``group`` (rows of no view are dropped).

    With ``allowed`` (videos × categories), views of the other categories are dropped
    (a filter).
    """
    parts = [
        _split_chunk(rows.take(slice(i, i + chunk)), group, shares, watch, rpm, allowed)
        for i in range(0, len(rows.views), chunk)
    ]
    if not parts:
        empty = rows.take(slice(0, 0))
        empty.cats[group.name] = np.zeros(0, dtype=np.int64)
        return empty
    joined = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS}
    return Rows(
        joined["video"],
        joined["time"],
        joined["views"],
        joined["watch"],
        joined["completions"],
        joined["earnings"],
        {name: np.concatenate([p.cats[name] for p in parts]) for name in parts[0].cats},
    )


_FIELDS = ("video", "time", "views", "watch", "completions", "earnings")


def _split_chunk(
    rows: Rows,
    group: Group,
    shares: FloatArray,
    watch: FloatArray | None,
    rpm: FloatArray | None,
    allowed: BoolArray | None,
) -> Rows:
    n_cats = shares.shape[1]
    views = cumulative_round(shares[rows.video], rows.views)
    ones = np.ones(n_cats)
    watch_w = views * (ones if watch is None else watch)[None, :]
    watched = cumulative_round(watch_w, rows.watch)
    completed = cumulative_round(watch_w, rows.completions)
    money_w = views * (ones if rpm is None else rpm)[None, :]
    total = money_w.sum(axis=1, keepdims=True)
    earned = rows.earnings[:, None] * money_w / np.where(total > 0, total, 1.0)
    cat = np.broadcast_to(np.arange(n_cats)[None, :], views.shape)
    keep = views > 0
    if allowed is not None:
        keep &= allowed[rows.video]
    index = np.nonzero(keep)
    row_of = index[0]
    return Rows(
        rows.video[row_of],
        rows.time[row_of],
        views[keep],
        watched[keep],
        completed[keep],
        earned[keep],
        {**{n: c[row_of] for n, c in rows.cats.items()}, group.name: cat[keep]},
    )
