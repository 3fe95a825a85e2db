"""Deterministic demo data for the sandbox.

:func:`build` returns the same users, API keys and videos for the same ``(seed, videos)``:
a demo user owning a large channel (long-tailed views, 17 categories, several languages,
tags, some private or unpublished videos, creation times spread over six years with several
videos sharing one second), an organisation with three channels (API v2 profiles) for the
private API key: two small ones and an archive (own random stream; by default 4/5 the demo
channel's size, at most 1,200: past the 1,000-results ceiling for the default demo, small for
small sandboxes), a read-only private key, and an unrelated user whose videos are public.

Example:
    >>> data = build(seed=7, videos=20)
    >>> data.demo.username, len([v for v in data.videos if v["owner"] == data.demo.id])
    ('demo', 20)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from dmtools.schema import CATEGORIES

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
#: Creation times of seeded videos lie in [EPOCH_START, EPOCH_END).
EPOCH_START = 1_546_300_800  # 2019-01-01
EPOCH_END = 1_735_689_600  # 2025-01-01
LOOPBACK_REDIRECT = "http://127.0.0.1/callback"
#: Largest default size of the organisation's archive channel (a verified, premium profile).
ARCHIVE_VIDEOS = 1200
#: API v2 permissions of the read-only private key (the demo private key has them all).
READ_ONLY_PERMISSIONS = ("bundle.public", "account.read")

_LANGS = (
    ["en"] * 8
    + ["fr"] * 4
    + ["es"] * 2
    + ["de", "it", "pt", "ja", "ko", "ar", "hi", "ru"]
    + [None] * 3
)
_COUNTRIES = ["FR", "US", "GB", "DE", "ES", "IT", "JP", "BR", None, None, None]
_CAT_WEIGHTS = [3, 2, 2, 6, 2, 5, 8, 6, 2, 3, 2, 6, 5, 4, 3, 7, 1]
_ADJ = [
    "Amazing",
    "Quick",
    "Ultimate",
    "Hidden",
    "Daily",
    "Weekly",
    "Epic",
    "Tiny",
    "Late-night",
    "Behind-the-scenes",
    "Classic",
    "Fresh",
    "Live",
    "Slow",
    "Unexpected",
    "Deep",
]
_NOUN = [
    "recipe",
    "trip",
    "review",
    "tutorial",
    "match highlights",
    "interview",
    "concert",
    "unboxing",
    "speedrun",
    "lecture",
    "sketch",
    "vlog",
    "trailer",
    "walkthrough",
    "podcast",
    "documentary",
    "news roundup",
    "workout",
]
_TAIL = [
    "",
    "",
    "",
    " (part 2)",
    " in 5 minutes",
    " - full version",
    " #shorts",
    " 2024",
    " — director's cut",
    " with friends",
    " explained",
]
_TAGS = [
    "music",
    "live",
    "news",
    "sport",
    "football",
    "tutorial",
    "how to",
    "travel",
    "food",
    "gaming",
    "speedrun",
    "comedy",
    "kids",
    "animals",
    "cats",
    "dogs",
    "tech",
    "review",
    "unboxing",
    "vlog",
    "behind the scenes",
    "interview",
    "trailer",
    "art",
    "diy",
    "science",
    "history",
    "paris",
    "new york",
    "tokyo",
    "summer",
    "winter",
    "rock'n'roll",
    "jazz",
    "electro",
    "cars",
    "f1",
    "cycling",
    "tennis",
    "school",
    "maths",
    "python",
    "cooking",
    "vegan",
    "short film",
    "documentary",
    "podcast",
    "asmr",
    "nature",
    "space",
]
_SENTENCES = [
    "A look at what happened this week.",
    "Filmed in one take.",
    "Subscribe for more videos like this one.",
    "Thanks for watching!",
    "Everything you need to know in a few minutes.",
    "Recorded live with the audience.",
    "Chapters below.",
    "Music licensed for this video.",
    "First episode of a new series.",
    "Questions welcome in the comments.",
]


@dataclass(frozen=True)
class SeedUser:
    id: str
    username: str
    screenname: str
    password: str
    email: str
    country: str | None = None
    language: str | None = None
    created_time: int = EPOCH_START
    verified: bool = False
    partner: bool = False
    org: str | None = None


@dataclass(frozen=True)
class SeedClient:
    client_id: str
    client_secret: str
    kind: str  # "public" | "private"
    redirect_uri: str | None = None
    org: str | None = None
    channels: tuple[str, ...] = ()
    name: str = ""
    permissions: tuple[str, ...] | None = None  #: API v2 scopes allowed (None: every scope)


@dataclass
class SeedData:
    demo: SeedUser
    users: list[SeedUser]
    clients: list[SeedClient]
    videos: list[dict[str, Any]]
    org: str
    public_key: SeedClient = field(init=False)
    private_key: SeedClient = field(init=False)

    def __post_init__(self) -> None:
        self.public_key = self.clients[0]
        self.private_key = self.clients[1]


class IdMaker:
    """Makes unique xids (``x`` + 6 lowercase alphanumerics) from a random source."""

    def __init__(
        self, rng: random.Random, taken: set[str] | None = None, prefix: str = "x"
    ) -> None:
        self.rng = rng
        self.taken = taken if taken is not None else set()
        self.prefix = prefix

    def __call__(self) -> str:
        while True:
            xid = self.prefix + "".join(self.rng.choice(ID_ALPHABET) for _ in range(6))
            if xid not in self.taken:
                self.taken.add(xid)
                return xid


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _title(rng: random.Random) -> str:
    title = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}{rng.choice(_TAIL)}"
    if rng.random() < 0.03:  # a few long titles close to the public limit
        while len(title) < 92:
            title += " " + rng.choice(_NOUN)
        title = title[: rng.randint(91, 100)].rstrip()
    return title


def make_video(rng: random.Random, xid: str, owner: str, created: int) -> dict[str, Any]:
    """One realistic video record (stored column names)."""
    channel = rng.choices(CATEGORIES, weights=_CAT_WEIGHTS)[0]
    private = rng.random() < 0.06
    published = rng.random() >= 0.03
    views = 0 if rng.random() < 0.05 else min(int(rng.paretovariate(1.05) * 12) - 12, 40_000_000)
    age_days = max(1, (EPOCH_END - created) // 86400)
    month = min(views, int(views * min(1.0, 30 / age_days) * rng.uniform(0.5, 1.5)))
    week = min(month, int(month * rng.uniform(0.1, 0.4)))
    day = min(week, int(week * rng.uniform(0.05, 0.3)))
    n_tags = min(len(_TAGS), int(rng.expovariate(0.35)))
    tags = rng.sample(_TAGS, n_tags)
    description = " ".join(rng.sample(_SENTENCES, rng.randint(0, 3)))
    duration = max(5, min(10_800, int(rng.lognormvariate(5.3, 1.0))))
    return {
        "id": xid,
        "owner": owner,
        "title": _title(rng),
        "description": description,
        "tags": tags,
        "channel": channel,
        "language": rng.choice(_LANGS),
        "country": rng.choice(_COUNTRIES),
        "published": published,
        "private": private,
        "is_created_for_kids": channel == "kids" or rng.random() < 0.02,
        "explicit": rng.random() < 0.01,
        "allow_embed": rng.random() >= 0.05,
        "status": "published" if published else "ready",
        "created_time": created,
        "updated_time": min(EPOCH_END, created + rng.randint(0, 90 * 86400)),
        "duration": duration,
        "views_total": views,
        "views_last_day": day,
        "views_last_week": week,
        "views_last_month": month,
        "likes_total": int(views * rng.uniform(0.0, 0.04)),
        "comments_total": int(views * rng.uniform(0.0, 0.004)),
        "bookmarks_total": int(views * rng.uniform(0.0, 0.01)),
        "private_id": "k" + "".join(rng.choice(ID_ALPHABET) for _ in range(12)),
        "password": None,
        "mode": "vod",
        "source_url": None,
    }


def _times(rng: random.Random, n: int) -> list[int]:
    """``n`` creation times over six years, with several runs sharing the same second."""
    times = sorted(rng.randrange(EPOCH_START, EPOCH_END) for _ in range(n))
    for i in range(1, n):
        if rng.random() < 0.03:  # pairs/triples uploaded in the same second
            times[i] = times[i - 1]
    if n >= 12:  # one batch upload of five videos in one second
        start = n // 3
        for i in range(start + 1, start + 5):
            times[i] = times[start]
    return times


def _channel_videos(rng: random.Random, ids: IdMaker, owner: str, n: int) -> list[dict[str, Any]]:
    return [make_video(rng, ids(), owner, t) for t in _times(rng, n)]


def _users(rng: random.Random, ids: IdMaker, org: str) -> list[SeedUser]:
    """demo (the big channel), demo-news and demo-sport (the organisation), someone."""
    spec: list[tuple[str, str, str, str, int, dict[str, Any]]] = [
        ("demo", "Demo Channel", "FR", "en", 400, {"verified": True, "partner": True}),
        ("demo-news", "Demo News", "FR", "fr", 200, {"partner": True, "org": org}),
        ("demo-sport", "Demo Sport", "GB", "en", 100, {"partner": True, "org": org}),
        ("someone", "Someone Else", "US", "en", 0, {}),
    ]
    users = []
    for username, screenname, country, language, days_before, extra in spec:
        user_id, password = ids(), "emu-" + _hex(rng, 12)
        email = username.split("-")[-1] + "@example.com"
        users.append(
            SeedUser(
                user_id,
                username,
                screenname,
                password,
                email,
                country,
                language,
                EPOCH_START - 86400 * days_before,
                **extra,
            )
        )
    return users


def _clients(rng: random.Random, org: str, channels: tuple[str, ...]) -> list[SeedClient]:
    """The demo public key, the organisation's private key, and a second public key."""
    spec: list[tuple[str, str, dict[str, Any]]] = [
        ("p", "public", {"redirect_uri": LOOPBACK_REDIRECT, "name": "dmtools demo app"}),
        ("x", "private", {"org": org, "channels": channels, "name": "dmtools demo partner key"}),
        ("p", "public", {"redirect_uri": "http://127.0.0.1/other-app", "name": "another app"}),
    ]
    return [
        SeedClient(
            f"emu_{letter}k_" + _hex(rng, 20), f"emu_{letter}s_" + _hex(rng, 40), kind, **extra
        )
        for letter, kind, extra in spec
    ]


def _archive(
    seed: int, taken: set[str], org: str, sport: str, n: int
) -> tuple[SeedUser, SeedClient, list[dict[str, Any]]]:
    """The archive channel (its own random stream), its videos and the read-only key."""
    rng = random.Random(f"dmtools-sandbox:{seed}:archive")
    ids = IdMaker(rng, taken)
    user = SeedUser(
        ids(),
        "demo-archive",
        "Demo Archive",
        "emu-" + _hex(rng, 12),
        "archive@example.com",
        "FR",
        "fr",
        EPOCH_START - 86400 * 300,
        verified=True,
        partner=True,
        org=org,
    )
    key = SeedClient(
        "emu_xk_" + _hex(rng, 20),
        "emu_xs_" + _hex(rng, 40),
        "private",
        org=org,
        channels=(sport,),
        name="dmtools demo read-only key",
        permissions=READ_ONLY_PERMISSIONS,
    )
    return user, key, _channel_videos(rng, ids, user.id, n)


def build(seed: int = 7, videos: int = 1500, archive: int | None = None) -> SeedData:
    """The demo data for ``(seed, videos, archive)``; the same arguments give the same data.

    ``archive`` is the size of the archive channel (None: 4/5 of ``videos``, at most
    :data:`ARCHIVE_VIDEOS`).
    """
    archive = min(ARCHIVE_VIDEOS, videos * 4 // 5) if archive is None else archive
    rng = random.Random(f"dmtools-sandbox:{seed}")
    ids = IdMaker(rng)
    org = "o" + _hex(rng, 10)
    users = _users(rng, ids, org)
    demo, news, sport, other = users
    clients = _clients(rng, org, (news.id, sport.id))
    all_videos = _channel_videos(rng, ids, demo.id, videos)
    all_videos += _channel_videos(rng, ids, news.id, 60)
    all_videos += _channel_videos(rng, ids, sport.id, 40)
    others = _channel_videos(rng, ids, other.id, 20)
    for video in others:  # someone else's videos are all public and published
        video.update(private=False, published=True, status="published")
    all_videos += others
    keeper, read_only, kept = _archive(seed, ids.taken, org, sport.id, archive)
    users.append(keeper)
    clients[1] = replace(clients[1], channels=(news.id, sport.id, keeper.id))
    clients.append(read_only)
    return SeedData(demo, users, clients, all_videos + kept, org)
