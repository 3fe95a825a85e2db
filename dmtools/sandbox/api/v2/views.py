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

import hashlib
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dmtools.sandbox.api.v2.fields import Catalogue

WEB = "https://www.dailymotion.com"
CDN = "https://s1.dmcdn.net/v"
_THUMBS = (120, 240, 360, 480, 720, 1080)
_FRAMES = (360, 480, 720, 1080)
_PREVIEWS = (240, 480, 720)
_FORMATS = (240, 380, 480, 720, 1080, 2160)
_SIZES = ((1920, 1080), (1280, 720), (1280, 720), (854, 480), (1080, 1920))

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
    """``YYYY-MM-DDTHH:MM:SSZ`` of unix seconds (None stays None)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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

    def profile(self, owner: str) -> dict[str, Any]:
        user = self.users(owner) or {}
        name = user.get("username")
        return {
            "profile_id": owner,
            "name": name,
            "display_name": user.get("screenname"),
            "profile_url": f"{WEB}/{name}" if name else None,
        }

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


def _source(video: Mapping[str, Any], view: View) -> dict[str, Any]:
    width, height = _size(video)
    seed = f"{video['id']}:{video.get('source_url') or ''}".encode()
    return {
        "duration": video["duration"],
        "width": width,
        "height": height,
        "checksum": hashlib.sha1(seed, usedforsecurity=False).hexdigest(),
    }


def _embedding(video: Mapping[str, Any], view: View) -> dict[str, Any]:
    url = f"{WEB}/embed/video/{video['id']}"
    return {
        "enable_embed": video["allow_embed"],
        "embed_url": url,
        "embed_html": f'<iframe frameborder="0" width="480" height="270" src="{url}" '
        "allowfullscreen></iframe>",
    }


def _video_url(video: Mapping[str, Any], view: View) -> str:
    private = video["private"] and video.get("private_id") and view.owner_view(video["owner"])
    return f"{WEB}/video/{video['private_id'] if private else video['id']}"


def _published_at(video: Mapping[str, Any], view: View) -> str | None:
    if video.get("published_at") is not None:
        return iso(video["published_at"])
    return iso(video["created_time"]) if video["published"] else None


_GETTERS: dict[str, _Getter] = {
    "video_id": lambda v, view: v["id"],
    "description": lambda v, view: v["description"] or None,
    "category": lambda v, view: v["channel"],
    "created_at": lambda v, view: iso(v["created_time"]),
    "updated_at": lambda v, view: iso(v["updated_time"] or v["created_time"]),
    "uploaded_at": lambda v, view: iso(v["created_time"]),
    "published_at": _published_at,
    "is_published": lambda v, view: v["published"],
    "is_for_kids": lambda v, view: v["is_created_for_kids"],
    "is_explicit": lambda v, view: v["explicit"],
    "visibility": lambda v, view: visibility(v),
    "video_url": _video_url,
    "enable_comments": lambda v, view: bool(v["enable_comments"] and not v["is_created_for_kids"]),
    "available_formats": lambda v, view: [str(n) for n in _FORMATS if n <= min(_size(v))],
    "embedding": _embedding,
    "first_frame": lambda v, view: {f"h{n}_url": f"{CDN}/{v['id']}/ff/x{n}" for n in _FRAMES},
    "geo_restriction": lambda v, view: {
        "mode": v["geo_mode"] or "deny",
        "countries": list(v["geo_countries"]),
    },
    "preview": lambda v, view: {
        f"p{n}_url": f"{CDN}/{v['id']}/preview/p{n}.mp4" for n in _PREVIEWS
    },
    "processing": lambda v, view: view.processing(v["id"]),
    "profile": lambda v, view: view.profile(v["owner"]),
    "source": _source,
    "thumbnail": lambda v, view: {f"h{n}_url": f"{CDN}/{v['id']}/x{n}" for n in _THUMBS},
}


def render_video(video: Mapping[str, Any], selection: dict[str, Any], view: View) -> dict[str, Any]:
    """The v2 object of a stored video with the selected fields."""
    return VIDEO.pick(
        selection,
        lambda name: _GETTERS[name](video, view) if name in _GETTERS else video.get(name),
    )
