"""How API v2 shows a stored video: the field mapping onto the one store.

============================  =========================================================
v2 field                      stored (legacy) value
============================  =========================================================
``video_id``                  ``id``
``category``                  ``channel``
``visibility``                ``private`` (→ private), else ``password`` set (→ password),
                              else public
``is_published``              ``published``
``is_for_kids``               ``is_created_for_kids``
``is_explicit``               ``explicit``
``created_at``/``updated_at``  ``created_time``/``updated_time`` as ISO 8601 ``Z``
``uploaded_at``               ``created_time``; ``published_at``: its own value, else the
                              creation time of a published video
``video_url``                 ``https://www.dailymotion.com/video/<id>`` (a private video's
                              owner gets its private ``k...`` id)
``profile.*``                 ``owner``: ``profile_id``, ``name`` (username),
                              ``display_name`` (screenname), ``profile_url``
``source.*``                  ``duration``, ``width``, ``height``, ``checksum``
``thumbnail.hN_url``          the legacy ``thumbnail_N_url``
``embedding.*``               ``allow_embed`` (``enable_embed``), ``embed_url``, ``embed_html``
``processing.*``              encoding state: processing for ``v2_processing_seconds``
                              after a create or a new source, then ready
``enable_comments``           stored flag, always false on a video for kids
============================  =========================================================

Legacy-only fields (``views_*``, ``likes_total``, ``status``, ``mode``, ``private_id``...) do
not exist on v2. An empty description reads as null.
"""

from __future__ import annotations

import functools
import hashlib
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dmtools.sandbox.api.v2.fields import Catalogue, Selection, narrow
from dmtools.sandbox.state.videos import VIDEO_COLUMNS

WEB = "https://www.dailymotion.com"
CDN = "https://s1.dmcdn.net/v"
_THUMBS = (120, 240, 360, 480, 720, 1080)
_FRAMES = (360, 480, 720, 1080)
_PREVIEWS = (240, 480, 720)
_FORMATS = (240, 380, 480, 720, 1080, 2160)
_SIZES = ((1920, 1080), (1280, 720), (1280, 720), (854, 480), (1080, 1920))
_YEAR_10000 = 253_402_300_800  # unix seconds of 10000-01-01T00:00:00Z

VIDEO = Catalogue(
    scalars=frozenset(
        {
            "video_id",
            "title",
            "description",
            "tags",
            "hashtags",
            "category",
            "country",
            "language",
            "created_at",
            "updated_at",
            "uploaded_at",
            "published_at",
            "is_published",
            "is_for_kids",
            "is_explicit",
            "visibility",
            "video_url",
            "enable_comments",
            "is_ai_altered",
            "ai_subtitles",
            "enable_ai_chapter_generation",
            "engagement_message",
            "can_be_stitched",
            "is_exclusive_content",
            "has_paid_partnership",
            "available_formats",
        }
    ),
    embedded={
        "embedding": ("enable_embed", "embed_url", "embed_html"),
        "first_frame": tuple(f"h{n}_url" for n in _FRAMES),
        "geo_restriction": ("mode", "countries"),
        "preview": tuple(f"p{n}_url" for n in _PREVIEWS),
        "processing": ("encoding_status", "encoding_progress", "publishing_progress"),
        "profile": ("profile_id", "name", "display_name", "profile_url"),
        "source": ("duration", "width", "height", "checksum"),
        "thumbnail": tuple(f"h{n}_url" for n in _THUMBS),
    },
    default=("video_id", "title", "category", "visibility", "created_at", "profile"),
)

#: ``(video, view) -> value`` of the fields stored under another name or computed.
_Getter = Callable[[Mapping[str, Any], "View"], Any]


def iso(seconds: int | float | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` of unix seconds (None stays None).

    Example:
        >>> iso(1777593600), iso(0), iso(None)
        ('2026-05-01T00:00:00Z', '1970-01-01T00:00:00Z', None)
    """
    if seconds is None:
        return None
    whole = int(seconds)
    if 0 <= whole < _YEAR_10000:  # four-digit years: strftime's text, at half its cost
        return "%04d-%02d-%02dT%02d:%02d:%02dZ" % time.gmtime(whole)[:6]  # noqa: UP031 (fastest)
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any) -> float | None:
    """Unix seconds of an ISO 8601 date-time with ``Z`` or an offset; None if it is not one.

    Example:
        >>> parse_time("2026-05-01T00:00:00Z"), parse_time("2026-05-01")
        (1777593600.0, None)
    """
    if not isinstance(text, str) or len(text) < 16:
        return None
    try:
        parsed = datetime.fromisoformat(text)
        return None if parsed.tzinfo is None else parsed.timestamp()
    except (ValueError, OverflowError):
        return None


def visibility(video: Mapping[str, Any]) -> str:
    """The v2 visibility of a stored video (private wins over a password)."""
    if video["private"]:
        return "private"
    return "password" if video.get("password") is not None else "public"


@dataclass
class View:
    """What rendering needs besides the video: who asks, profiles, encoding starts."""

    users: Callable[[str], dict[str, Any] | None]
    owner_view: Callable[[str], bool] = lambda owner: False
    uploads: Mapping[str, float] = field(default_factory=dict)
    processing_seconds: int = 0
    _profiles: dict[tuple[str, tuple[str, ...] | None], dict[str, Any]] = field(
        default_factory=dict, repr=False
    )
    _owns: dict[str, bool] = field(default_factory=dict, repr=False)

    def owns(self, owner: str) -> bool:
        """Whether the caller owns ``owner``'s videos (asked once per owner and view)."""
        mine = self._owns.get(owner)
        if mine is None:
            mine = self._owns[owner] = bool(self.owner_view(owner))
        return mine

    def profile(self, owner: str, subs: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The ``profile`` object of ``owner``, or its sub-fields ``subs`` (made once per
        owner and sub-fields in a view)."""
        profile = self._profiles.get((owner, subs))
        if profile is None:
            user = self.users(owner) or {}
            name = user.get("username")
            profile = {
                "profile_id": owner,
                "name": name,
                "display_name": user.get("screenname"),
                "profile_url": f"{WEB}/{name}" if name else None,
            }
            profile = self._profiles[owner, subs] = (
                profile if subs is None else narrow(profile, subs)
            )
        return dict(profile)

    def processing(self, video_id: str) -> dict[str, Any]:
        since = self.uploads.get(video_id)
        left = 0.0 if since is None else since + self.processing_seconds - time.time()
        if left <= 0:
            return {
                "encoding_status": "ready",
                "encoding_progress": 100,
                "publishing_progress": 100,
            }
        done = int(100 * (1 - left / self.processing_seconds))
        return {
            "encoding_status": "processing",
            "encoding_progress": max(0, min(99, done)),
            "publishing_progress": 0,
        }


def _size(video: Mapping[str, Any]) -> tuple[int, int]:
    return _SIZES[zlib.crc32(video["id"].encode()) % len(_SIZES)]


def _checksum(video: Mapping[str, Any], view: View) -> str:
    seed = f"{video['id']}:{video.get('source_url') or ''}".encode()
    return hashlib.sha1(seed, usedforsecurity=False).hexdigest()


#: The ``source`` object part by part: a request for some parts computes only those.
_SOURCE_PARTS: dict[str, _Getter] = {
    "duration": lambda v, view: v["duration"],
    "width": lambda v, view: _size(v)[0],
    "height": lambda v, view: _size(v)[1],
    "checksum": _checksum,
}


def _source(video: Mapping[str, Any], view: View) -> dict[str, Any]:
    return {name: get(video, view) for name, get in _SOURCE_PARTS.items()}


def _embedding(video: Mapping[str, Any], view: View) -> dict[str, Any]:
    url = f"{WEB}/embed/video/{video['id']}"
    return {
        "enable_embed": video["allow_embed"],
        "embed_url": url,
        "embed_html": f'<iframe frameborder="0" width="480" height="270" src="{url}" '
        "allowfullscreen></iframe>",
    }


def _video_url(video: Mapping[str, Any], view: View) -> str:
    private = video["private"] and video.get("private_id") and view.owns(video["owner"])
    return f"{WEB}/video/{video['private_id'] if private else video['id']}"


def _published_at(video: Mapping[str, Any], view: View) -> str | None:
    if video.get("published_at") is not None:
        return iso(video["published_at"])
    return iso(video["created_time"]) if video["published"] else None


#: The fields stored under another name or computed: ``(getter, stored columns it reads)``;
#: any other field is the stored column of its name, shown as it is.
_GETTERS: dict[str, tuple[_Getter, tuple[str, ...]]] = {
    "description": (lambda v, view: v["description"] or None, ("description",)),
    "created_at": (lambda v, view: iso(v["created_time"]), ("created_time",)),
    "updated_at": (
        lambda v, view: iso(v["updated_time"] or v["created_time"]),
        ("updated_time", "created_time"),
    ),
    "uploaded_at": (lambda v, view: iso(v["created_time"]), ("created_time",)),
    "published_at": (_published_at, ("published_at", "created_time", "published")),
    "visibility": (lambda v, view: visibility(v), ("private", "password")),
    "video_url": (_video_url, ("id", "owner", "private", "private_id")),
    "enable_comments": (
        lambda v, view: bool(v["enable_comments"] and not v["is_created_for_kids"]),
        ("enable_comments", "is_created_for_kids"),
    ),
    "available_formats": (
        lambda v, view: [str(n) for n in _FORMATS if n <= min(_size(v))],
        ("id",),
    ),
    "embedding": (_embedding, ("id", "allow_embed")),
    "first_frame": (
        lambda v, view: {f"h{n}_url": f"{CDN}/{v['id']}/ff/x{n}" for n in _FRAMES},
        ("id",),
    ),
    "geo_restriction": (
        lambda v, view: {"mode": v["geo_mode"] or "deny", "countries": list(v["geo_countries"])},
        ("geo_mode", "geo_countries"),
    ),
    "preview": (
        lambda v, view: {f"p{n}_url": f"{CDN}/{v['id']}/preview/p{n}.mp4" for n in _PREVIEWS},
        ("id",),
    ),
    "processing": (lambda v, view: view.processing(v["id"]), ("id",)),
    "profile": (lambda v, view: view.profile(v["owner"]), ("owner",)),
    "source": (_source, ("id", "source_url", "duration")),
    "thumbnail": (
        lambda v, view: {f"h{n}_url": f"{CDN}/{v['id']}/x{n}" for n in _THUMBS},
        ("id",),
    ),
}

#: The fields that are a stored column under another name, shown as it is.
_RENAMED = {
    "video_id": "id",
    "category": "channel",
    "is_published": "published",
    "is_for_kids": "is_created_for_kids",
    "is_explicit": "explicit",
}

#: A selection as a hashable key: ``((name, sub-fields or None), ...)`` in request order.
_Key = tuple[tuple[str, tuple[str, ...] | None], ...]


def _stored(name: str) -> _Getter:
    return lambda v, view: v.get(name)


def _source_parts(subs: tuple[str, ...]) -> _Getter:
    chosen = [(sub, _SOURCE_PARTS[sub]) for sub in subs]
    return lambda v, view: {sub: get(v, view) for sub, get in chosen}


def _profile_parts(subs: tuple[str, ...]) -> _Getter:
    return lambda v, view: view.profile(v["owner"], subs)


#: Embedded objects that compute only the sub-fields asked for: sub-fields -> getter.
_NARROWED: dict[str, Callable[[tuple[str, ...]], _Getter]] = {
    "source": _source_parts,
    "profile": _profile_parts,
}


#: ``(name, getter, sub-fields to keep or None)`` of a field not shown as stored.
_Computed = tuple[str, _Getter, tuple[str, ...] | None]


@functools.lru_cache(maxsize=256)
def _plan(key: _Key) -> tuple[tuple[str, ...], tuple[str, ...], tuple[_Computed, ...]]:
    """How a selection is rendered, decided once per selection: every name in order, the
    stored column each shows (if it is one) and the fields computed."""
    computed: list[_Computed] = []
    for name, subs in key:
        if name in _GETTERS:
            get = _GETTERS[name][0]
            if subs is not None and name in _NARROWED:
                get, subs = _NARROWED[name](subs), None
            computed.append((name, get, subs))
        elif subs is not None:  # a stored value narrowed as Catalogue.pick does
            computed.append((name, _stored(_RENAMED.get(name, name)), subs))
    names = tuple(name for name, _ in key)
    return names, tuple(_RENAMED.get(name, name) for name in names), tuple(computed)


@functools.lru_cache(maxsize=256)
def video_columns(key: _Key) -> frozenset[str]:
    """The stored columns that rendering a selection (as ``tuple(selection.items())``)
    reads; the id and owner always."""
    needs = (_GETTERS[n][1] if n in _GETTERS else (_RENAMED.get(n, n),) for n, _ in key)
    return frozenset({"id", "owner"}.union(*needs)).intersection(VIDEO_COLUMNS)


def render_videos(
    videos: Iterable[Mapping[str, Any]], selection: Selection, view: View
) -> list[dict[str, Any]]:
    """The v2 objects of stored videos with the selected fields, as :meth:`Catalogue.pick`
    lays them out; the fields' getters are resolved once for the whole list."""
    keys, stored, computed = _plan(tuple(selection.items()))
    out = []
    for video in videos:
        shown = dict(zip(keys, map(video.get, stored), strict=True))  # stored ones as they are
        for name, get, subs in computed:
            value = get(video, view)
            shown[name] = value if subs is None else narrow(value, subs)  # in place: in order
        out.append(shown)
    return out


def render_video(video: Mapping[str, Any], selection: Selection, view: View) -> dict[str, Any]:
    """The v2 object of a stored video with the selected fields."""
    return render_videos([video], selection, view)[0]
