"""REST routes of the sandbox (the same on the public paths and under ``/rest``).

Visibility: public lists (``/videos``, someone else's ``/user/<id>/videos``) show only public,
published videos; the owner's own private and unpublished videos appear in ``/me/videos`` and
``/user/<own id>/videos`` when the token can read them (``manage_videos``, or ``read_videos``
for a private key, which reaches the channels of its organisation).
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from dmtools.sandbox.apierrors import ApiError, forbidden, missing_parameter, not_found
from dmtools.sandbox.calls import Call
from dmtools.sandbox.queries import build_query, paging
from dmtools.sandbox.rules import check_publishable, parse_writes, to_columns
from dmtools.sandbox.store import StaleVersion, Store
from dmtools.sandbox.tokens import Principal, Tokens
from dmtools.sandbox.uploads import Uploads
from dmtools.sandbox.views import (
    CHANNEL_READABLE,
    DEFAULT_CHANNEL_FIELDS,
    DEFAULT_USER_FIELDS,
    DEFAULT_VIDEO_FIELDS,
    USER_READABLE,
    VIDEO_READABLE,
    parse_fields,
    render_channel,
    render_video,
    user_value,
)
from dmtools.schema import CATEGORIES

_PUBLIC = "private = 0 AND published = 1"
_ROUTES: list[tuple[str, str, list[str]]] = [
    ("/me", "me", ["GET"]),
    ("/me/videos", "my_videos", ["GET", "POST"]),
    ("/user/<uid>", "user", ["GET"]),
    ("/user/<uid>/videos", "user_videos", ["GET", "POST"]),
    ("/videos", "videos", ["GET", "POST"]),
    ("/video/<vid>", "video", ["GET", "POST", "DELETE"]),
    ("/channels", "channels", ["GET"]),
    ("/channel/<cid>", "channel", ["GET"]),
    ("/echo", "echo", ["GET", "POST"]),
    ("/auth", "auth", ["GET"]),
    ("/logout", "logout", ["GET", "POST"]),
    ("/file/upload", "file_upload", ["GET"]),
]


class RestApi:
    """Dispatches a :class:`Call` to its route and returns JSON-able data (or raises ApiError)."""

    def __init__(self, store: Store, tokens: Tokens, uploads: Uploads) -> None:
        self.store = store
        self.tokens = tokens
        self.uploads = uploads
        self.map = Map(
            [Rule(path, endpoint=name, methods=methods) for path, name, methods in _ROUTES],
            strict_slashes=False,
            merge_slashes=False,
        )
        self._handlers: dict[str, Callable[..., Any]] = {
            name: getattr(self, f"_{name}") for _, name, _ in _ROUTES
        }

    def dispatch(self, call: Call) -> Any:
        adapter = self.map.bind("sandbox", "/")
        try:
            endpoint, args = adapter.match(call.path or "/", method=call.method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            raise ApiError(
                405,
                "method_not_allowed",
                f"Method {call.method} is not allowed for {call.path} (allowed: {allowed}).",
                {"allowed": allowed},
                {"Allow": allowed},
            ) from None
        except NotFound:
            raise ApiError(
                404, "not_found", f"Unknown route {call.route}.", {"reason": "unknown_route"}
            ) from None
        return self._handlers[str(endpoint)](call, **args)

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _need(call: Call, capability: str | None = None) -> Principal:
        principal = call.principal
        if principal is None:
            scope = None
            if capability:
                scope = f"{capability}_videos" if call.partner else "manage_videos"
            raise forbidden(
                call.route,
                scope,
                None
                if scope
                else f"Insufficient rights for route {call.route}: an access token is required.",
            )
        if capability and not principal.can(capability):
            raise forbidden(call.route, principal.scope_for(capability))
        return principal

    @staticmethod
    def _not_yours(call: Call, principal: Principal) -> ApiError:
        if principal.partner:
            return forbidden(
                call.route,
                message=f"Insufficient rights for route {call.route}: "
                "this API key is limited to the channels of its organisation.",
            )
        return forbidden(
            call.route,
            message=f"Insufficient rights for route {call.route}: "
            "the object belongs to another user.",
        )

    def _owner_view(self, call: Call, owner: str) -> bool:
        principal = call.principal
        return principal is not None and principal.owns(owner) and principal.can("read")

    def _resolve_user(self, call: Call, uid: str) -> dict[str, Any]:
        if uid == "me":
            principal = self._need(call)
            uid = principal.account_id or ""
        user = self.store.user(uid)
        if user is None:
            raise not_found("user", uid)
        return user

    def _users(self, uid: str) -> dict[str, Any] | None:
        return self.store.user(uid)

    def _render(self, call: Call, video: dict[str, Any]) -> dict[str, Any]:
        names = parse_fields(call.params.get("fields"), VIDEO_READABLE, DEFAULT_VIDEO_FIELDS)
        return render_video(
            video, names, owner_view=self._owner_view(call, video["owner"]), users=self._users
        )

    # -- videos ------------------------------------------------------------------------
    def _video(self, call: Call, vid: str) -> Any:
        if call.method == "POST":
            return self._edit(call, vid)
        if call.method == "DELETE":
            return self._delete(call, vid)
        names = parse_fields(call.params.get("fields"), VIDEO_READABLE, DEFAULT_VIDEO_FIELDS)
        video = self.store.video(vid)
        if video is None:
            raise not_found("video", vid)
        if not (video["published"] and not video["private"]):
            principal = call.principal
            if principal is None or not principal.owns(video["owner"]):
                what = "private" if video["private"] else "not published"
                raise forbidden(
                    call.route,
                    message=f"Insufficient rights for route {call.route}: "
                    f"this video is {what}; only its owner can read it.",
                )
            if not principal.can("read"):
                raise forbidden(call.route, principal.scope_for("read"))
        self._etag(call, video)
        return render_video(
            video, names, owner_view=self._owner_view(call, video["owner"]), users=self._users
        )

    def _etag(self, call: Call, video: dict[str, Any]) -> None:
        """ETag mode: send the video's version as its ETag."""
        if self.store.settings.etag_mode:
            call.headers["ETag"] = f'"{video["version"]}"'

    def _if_match(self, call: Call) -> int | None:
        """ETag mode: the version an ``If-Match`` header asks for (None: unconditional)."""
        wanted = str(call.environ.get("HTTP_IF_MATCH") or "").strip()
        if not self.store.settings.etag_mode or not wanted or wanted == "*":
            return None
        try:
            return int(wanted.removeprefix("W/").strip('"'))
        except ValueError:
            return -1  # matches no version

    @staticmethod
    def _stale(exc: StaleVersion) -> ApiError:
        return ApiError(
            412,
            "precondition_failed",
            f"The video changed since it was read (now version {exc.current}).",
            {"param": "If-Match", "etag": f'"{exc.current}"'},
        )

    def _edit(self, call: Call, vid: str) -> Any:
        principal = self._need(call, "edit")
        parse_fields(call.params.get("fields"), VIDEO_READABLE, DEFAULT_VIDEO_FIELDS)
        video = self.store.video(vid)
        if video is None:
            raise not_found("video", vid)
        if not principal.owns(video["owner"]):
            raise self._not_yours(call, principal)
        written = parse_writes(call.params, self.store.settings.limits(principal.partner), video)
        if "url" in written:
            self.uploads.check_source(written["url"], call.base_url)
        check_publishable({**video, **written})
        if written:
            try:
                updated = self.store.update_video(
                    vid,
                    to_columns(written),
                    client_id=principal.client_id,
                    if_version=self._if_match(call),
                )
            except StaleVersion as exc:
                raise self._stale(exc) from None
            if updated is None:  # deleted meanwhile
                raise not_found("video", vid)
            video = updated
            self._etag(call, video)
        return self._render(call, video)

    def _delete(self, call: Call, vid: str) -> Any:
        principal = self._need(call, "delete")
        video = self.store.video(vid)
        if video is None:
            raise not_found("video", vid)
        if not principal.owns(video["owner"]):
            raise self._not_yours(call, principal)
        try:
            deleted = self.store.delete_video(
                vid, client_id=principal.client_id, if_version=self._if_match(call)
            )
        except StaleVersion as exc:
            raise self._stale(exc) from None
        if not deleted:
            raise not_found("video", vid)
        return {"id": vid} if self.store.settings.delete_body == "id" else {}

    def _create(self, call: Call, owner: str) -> Any:
        principal = self._need(call, "upload")
        if not principal.owns(owner):
            raise self._not_yours(call, principal)
        parse_fields(call.params.get("fields"), VIDEO_READABLE, DEFAULT_VIDEO_FIELDS)
        if not call.params.get("url"):
            raise missing_parameter(
                "url",
                "Missing required parameter `url': the `url' returned "
                "by the upload (or a public video URL).",
            )
        written = parse_writes(call.params, self.store.settings.limits(principal.partner))
        upload = self.uploads.check_source(written["url"], call.base_url)
        rng = random.Random()
        now = int(time.time())
        name = str(upload["name"]).rsplit(".", 1)[0] if upload and upload.get("name") else ""
        record: dict[str, Any] = {
            "id": self.store.new_video_id(),
            "owner": owner,
            "title": name or "Untitled video",
            "description": "",
            "tags": [],
            "channel": None,
            "language": None,
            "country": None,
            "published": False,
            "private": False,
            "is_created_for_kids": None,
            "explicit": False,
            "allow_embed": True,
            "created_time": now,
            "updated_time": now,
            "duration": int(upload["duration"]) if upload else rng.randint(30, 900),
            "private_id": "k" + secrets.token_hex(6),
            "password": None,
            "mode": "vod",
        }
        record.update(to_columns(written))
        check_publishable(record)
        record["status"] = "published" if record["published"] else "ready"
        video = self.store.create_video(record, written, principal.client_id)
        return self._render(call, video)

    def _list(self, call: Call, visible: str, args: list[Any]) -> Any:
        names = parse_fields(call.params.get("fields"), VIDEO_READABLE, DEFAULT_VIDEO_FIELDS)
        ceiling = self.store.settings.list_ceiling
        pages = paging(call.params, ceiling)
        query = build_query(call.params, lambda u: (self.store.user(u) or {}).get("id"))
        query.where.insert(0, visible)
        query.args[:0] = args
        total, videos = self.store.query_videos(
            query.sql, query.args, query.order, pages.limit, pages.offset
        )
        items = [
            render_video(v, names, owner_view=self._owner_view(call, v["owner"]), users=self._users)
            for v in videos
        ]
        return pages.envelope(total, items, ceiling, any(v["explicit"] for v in videos))

    def _owner_list(self, call: Call, owner: str) -> Any:
        if self._owner_view(call, owner):
            return self._list(call, "owner = ?", [owner])
        return self._list(call, f"owner = ? AND {_PUBLIC}", [owner])

    def _videos(self, call: Call) -> Any:
        if call.method == "POST":
            principal = self._need(call, "upload")
            return self._create(call, principal.account_id or "")
        return self._list(call, _PUBLIC, [])

    def _my_videos(self, call: Call) -> Any:
        return self._user_videos(call, "me")

    def _user_videos(self, call: Call, uid: str) -> Any:
        if call.method == "POST":
            self._need(call, "upload")
        user = self._resolve_user(call, uid)
        if call.method == "POST":
            return self._create(call, user["id"])
        return self._owner_list(call, user["id"])

    # -- users, channels, utilities ----------------------------------------------------
    def _render_user(self, call: Call, user: dict[str, Any]) -> dict[str, Any]:
        names = parse_fields(call.params.get("fields"), USER_READABLE, DEFAULT_USER_FIELDS)
        principal = call.principal
        own = principal is not None and principal.owns(user["id"])
        if "email" in names and not (own and principal is not None and "email" in principal.scopes):
            raise forbidden(call.route, "email")
        stats: list[tuple[int, int]] = []

        def lazy_stats() -> tuple[int, int]:
            if not stats:
                stats.append(self.store.user_stats(user["id"]))
            return stats[0]

        out = {n: user_value(user, n, lazy_stats) for n in names}
        if "limits" in out and not own:
            out["limits"] = None
        return out

    def _me(self, call: Call) -> Any:
        return self._render_user(call, self._resolve_user(call, "me"))

    def _user(self, call: Call, uid: str) -> Any:
        return self._render_user(call, self._resolve_user(call, uid))

    def _channels(self, call: Call) -> Any:
        names = parse_fields(call.params.get("fields"), CHANNEL_READABLE, DEFAULT_CHANNEL_FIELDS)
        ceiling = self.store.settings.list_ceiling
        pages = paging(call.params, ceiling, default_limit=50)
        items = [render_channel(c, names) for c in CATEGORIES]
        return pages.envelope(len(items), items[pages.offset : pages.offset + pages.limit], ceiling)

    def _channel(self, call: Call, cid: str) -> Any:
        if cid not in CATEGORIES:
            raise not_found("channel", cid)
        names = parse_fields(call.params.get("fields"), CHANNEL_READABLE, DEFAULT_CHANNEL_FIELDS)
        return render_channel(cid, names)

    def _echo(self, call: Call) -> Any:
        message = call.params.get("message")
        if message is None or message == "":
            raise missing_parameter("message")
        return {"message": message}

    def _auth(self, call: Call) -> Any:
        principal = call.principal
        if principal is None:
            return {"id": None, "username": None, "scope": [], "client_id": None, "roles": []}
        user = self.store.user(principal.account_id or "") or {}
        info: dict[str, Any] = {
            "id": user.get("id"),
            "username": user.get("username"),
            "screenname": user.get("screenname"),
            "scope": sorted(principal.scopes),
            "client_id": principal.client_id,
            "roles": [],
            "api_key_type": principal.kind,
        }
        if principal.partner:
            info["channels"] = list(principal.channels)
        return info

    def _logout(self, call: Call) -> Any:
        if call.principal is not None:
            self.tokens.revoke_family(call.principal.family)
        return {}

    def _file_upload(self, call: Call) -> Any:
        principal = self._need(call, "upload")
        return self.uploads.new_target(call.base_url, principal.client_id)
