"""How the legacy API renders video, user and category objects, with the ``fields`` parameter.

Dotted sub-fields (``owner.screenname``) come back as flat keys containing the dot, as the
real API does; object fields without a dot return the id (``"owner": "x1fz4ii"``).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from dmtools.sandbox.api.legacy.errors import invalid_parameter
from dmtools.sandbox.state.videos import VIDEO_COLUMNS
from dmtools.schema import CATEGORY_LABELS, USER_FIELDS, VIDEO_FIELDS

DEFAULT_VIDEO_FIELDS = ("id", "title", "channel", "owner")
DEFAULT_USER_FIELDS = ("id", "username", "screenname")
DEFAULT_CHANNEL_FIELDS = ("id", "name", "description")
THUMB_SIZES = (60, 120, 180, 240, 360, 480, 720, 1080)

_OWNER_SUBFIELDS = (
    "id",
    "username",
    "screenname",
    "url",
    "avatar_120_url",
    "verified",
    "partner",
    "country",
)
VIDEO_READABLE = (
    frozenset(VIDEO_FIELDS)
    | {f"owner.{s}" for s in _OWNER_SUBFIELDS}
    | {
        "channel.id",
        "channel.name",
        "uploaded_time",
        "embed_html",
        "item_type",
        *(f"thumbnail_{n}_url" for n in THUMB_SIZES),
    }
)
USER_READABLE = frozenset(USER_FIELDS)
CHANNEL_READABLE = frozenset({"id", "name", "description", "slug"})

UserLookup = Callable[[str], "dict[str, Any] | None"]


def parse_fields(value: Any, readable: frozenset[str], default: Iterable[str]) -> list[str]:
    """The requested field names (comma-separated or a list); unknown ones are refused."""
    if value is None or value == "" or value == []:
        return list(default)
    parts = value if isinstance(value, list) else str(value).split(",")
    names: list[str] = []
    for part in parts:
        name = str(part).strip()
        if not name:
            continue
        if name not in readable:
            raise invalid_parameter(
                "fields", f"Unknown field `{name}' in `fields' parameter.", field=name
            )
        if name not in names:
            names.append(name)
    return names or list(default)


def _user_sub(user: dict[str, Any] | None, name: str) -> Any:
    if user is None:
        return None
    if name == "url":
        return f"https://www.dailymotion.com/{user['username']}"
    if name == "avatar_120_url":
        return f"https://s2.dmcdn.net/u/{user['id']}/120x120"
    return user.get(name)


Getter = Callable[[dict[str, Any], bool, UserLookup], Any]

_URLS: dict[str, str] = {
    "url": "https://www.dailymotion.com/video/{}",
    "embed_url": "https://www.dailymotion.com/embed/video/{}",
    "embed_html": (
        '<iframe frameborder="0" width="480" height="270" '
        'src="https://www.dailymotion.com/embed/video/{}" allowfullscreen></iframe>'
    ),
    "thumbnail_url": "https://s1.dmcdn.net/v/{}/x720",
}
#: Computed fields: how each is shown, and the stored columns it reads.
_COMPUTED: dict[str, tuple[Getter, tuple[str, ...]]] = {
    "channel.id": (lambda video, owner_view, users: video["channel"], ("channel",)),
    "channel.name": (
        lambda video, owner_view, users: CATEGORY_LABELS.get(video["channel"] or ""),
        ("channel",),
    ),
    "private_id": (
        lambda video, owner_view, users: video["private_id"] if owner_view else None,
        ("private_id",),
    ),
    "password_protected": (
        lambda video, owner_view, users: video["password"] is not None,
        ("password",),
    ),
    "uploaded_time": (lambda video, owner_view, users: video["created_time"], ("created_time",)),
    "item_type": (lambda video, owner_view, users: "video", ()),
}


@functools.lru_cache(maxsize=1024)
def _field(name: str) -> tuple[Getter | None, tuple[str, ...]]:
    """How field ``name`` of a stored video is shown (None: a stored column shown as it is)
    and the stored columns that reads; decided once per field name."""
    if name.startswith("owner."):
        sub = name[6:]
        return (lambda video, owner_view, users: _user_sub(users(video["owner"]), sub)), ("owner",)
    if name in _COMPUTED:
        return _COMPUTED[name]
    template = _URLS.get(name)
    if template is None and name.startswith("thumbnail_") and name.endswith("_url"):
        template = "https://s1.dmcdn.net/v/{}/x" + name.split("_")[1]
    if template is not None:
        return (lambda video, owner_view, users: template.format(video["id"])), ("id",)
    return None, ((name,) if name in VIDEO_COLUMNS else ())


@functools.lru_cache(maxsize=256)
def _getters(names: tuple[str, ...]) -> tuple[tuple[str, Getter | None], ...]:
    return tuple((name, _field(name)[0]) for name in names)


@functools.lru_cache(maxsize=256)
def video_columns(names: tuple[str, ...]) -> frozenset[str]:
    """The stored columns that rendering fields ``names`` reads (the owner always: it
    decides what its viewer may see)."""
    return frozenset({"owner"}.union(*(_field(name)[1] for name in names)))


def render_video(
    video: dict[str, Any], names: Iterable[str], *, owner_view: bool, users: UserLookup
) -> dict[str, Any]:
    """One video as the API shows it (the code of :func:`render_videos`, so they agree)."""
    return render_videos([video], names, owner_view=lambda owner: owner_view, users=users)[0]


def render_videos(
    videos: Iterable[dict[str, Any]],
    names: Iterable[str],
    *,
    owner_view: Callable[[str], bool],
    users: UserLookup,
) -> list[dict[str, Any]]:
    """Videos of one list as the API shows them: the fields' getters are looked up once, and
    each owner's view and user once, for the whole list."""
    getters = _getters(tuple(names))
    keys = [name for name, _ in getters]
    computed = [(name, get) for name, get in getters if get is not None]
    views: dict[str, bool] = {}
    people: dict[str, dict[str, Any] | None] = {}

    def user(key: str) -> dict[str, Any] | None:
        if key not in people:
            people[key] = users(key)
        return people[key]

    out = []
    for video in videos:
        owner = video["owner"]
        mine = views.get(owner)
        if mine is None:
            mine = views[owner] = owner_view(owner)
        shown = dict(zip(keys, map(video.get, keys), strict=True))  # stored columns as they are
        for name, get in computed:
            shown[name] = get(video, mine, user)  # in place: the order of ``names`` is kept
        out.append(shown)
    return out


def user_value(user: dict[str, Any], name: str, stats: Callable[[], tuple[int, int]]) -> Any:
    if name in ("url", "avatar_120_url"):
        return _user_sub(user, name)
    if name == "fullname":
        return user["screenname"]
    if name == "videos_total":
        return stats()[0]
    if name == "views_total":
        return stats()[1]
    if name == "followers_total":
        return zlib.crc32(user["id"].encode()) % 50_000
    if name == "limits":
        return {"video_duration": 7200, "video_size": 4 * 1024**3}
    return user.get(name)


def render_channel(category: str, names: Iterable[str]) -> dict[str, Any]:
    label = CATEGORY_LABELS.get(category, category)
    values = {
        "id": category,
        "name": label,
        "slug": category,
        "description": f"{label} videos on Dailymotion",
    }
    return {n: values[n] for n in names}
