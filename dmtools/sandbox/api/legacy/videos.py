"""Legacy video resources: ``/video/<id>`` (read, edit, delete), lists and creates.

Visibility: public lists (``/videos``, someone else's ``/user/<id>/videos``) show only public,
published videos; the owner's own private and unpublished videos appear in ``/me/videos`` and
``/user/<own id>/videos`` when the token can read them (``manage_videos``, or ``read_videos``
for a private key, which reaches the channels of its organisation).

``POST /video/<id>`` with no writable parameter (only ``fields`` and other global ones) is a
read: it answers like ``GET`` and needs only read rights.
"""

from __future__ import annotations

from typing import Any

from dmtools.sandbox.api.legacy.calls import Call
from dmtools.sandbox.api.legacy.errors import forbidden, missing_parameter, not_found
from dmtools.sandbox.api.legacy.queries import envelope, paging, parse_filter
from dmtools.sandbox.api.legacy.rest import Routes, scope_for
from dmtools.sandbox.api.legacy.views import (
    DEFAULT_VIDEO_FIELDS,
    VIDEO_READABLE,
    parse_fields,
    render_video,
    render_videos,
    video_columns,
)
from dmtools.sandbox.api.legacy.writes import parse_writes, to_columns
from dmtools.sandbox.api.wire import if_match_version
from dmtools.sandbox.state import rules
from dmtools.sandbox.state.queries import Visibility


class VideoRoutes(Routes):
    """Handlers of the video resources."""

    def _fields(self, call: Call) -> list[str]:
        return parse_fields(call.params.get("fields"), VIDEO_READABLE, DEFAULT_VIDEO_FIELDS)

    def _render(self, call: Call, video: dict[str, Any], names: list[str]) -> dict[str, Any]:
        return render_video(
            video, names, owner_view=self.owner_view(call, video["owner"]), users=self.store.user
        )

    def _etag(self, call: Call, video: dict[str, Any]) -> None:
        """ETag mode: send the video's version as its ETag."""
        if self.store.settings.etag_mode:
            call.headers["ETag"] = f'"{video["version"]}"'

    def _if_match(self, call: Call) -> int | None:
        """ETag mode: the version an ``If-Match`` header asks for (None: unconditional)."""
        if not self.store.settings.etag_mode:
            return None
        return if_match_version(call.environ.get("HTTP_IF_MATCH"))

    # -- one video -------------------------------------------------------------------
    def video(self, call: Call, vid: str) -> Any:
        if call.method == "POST" and call.writes:
            return self._edit(call, vid)
        if call.method == "DELETE":
            return self._delete(call, vid)
        names = self._fields(call)
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
                raise forbidden(call.route, scope_for(principal.partner, "read"))
        self._etag(call, video)
        return self._render(call, video, names)

    def _edit(self, call: Call, vid: str) -> Any:
        principal = self.need(call, "edit")
        names = self._fields(call)
        video = self.store.video(vid)
        if video is None:
            raise not_found("video", vid)
        if not principal.owns(video["owner"]):
            raise self.not_yours(call, principal)
        written = parse_writes(call.params, self.store.settings.limits(principal.partner))
        rules.check_explicit(video, written)
        if "url" in written:
            self.uploads.check_source(written["url"], call.base_url)
        rules.check_publishable({**video, **written})
        if written:
            updated = self.store.update_video(
                vid,
                to_columns(written),
                client_id=principal.client_id,
                if_version=self._if_match(call),
            )
            if updated is None:  # deleted meanwhile
                raise not_found("video", vid)
            video = updated
            self._etag(call, video)
        return self._render(call, video, names)

    def _delete(self, call: Call, vid: str) -> Any:
        principal = self.need(call, "delete")
        video = self.store.video(vid)
        if video is None:
            raise not_found("video", vid)
        if not principal.owns(video["owner"]):
            raise self.not_yours(call, principal)
        deleted = self.store.delete_video(
            vid, client_id=principal.client_id, if_version=self._if_match(call)
        )
        if not deleted:
            raise not_found("video", vid)
        return {"id": vid} if self.store.settings.delete_body == "id" else {}

    # -- create ----------------------------------------------------------------------
    def _create(self, call: Call, owner: str) -> Any:
        principal = self.need(call, "upload")
        if not principal.owns(owner):
            raise self.not_yours(call, principal)
        names = self._fields(call)
        if not call.params.get("url"):
            raise missing_parameter(
                "url",
                "Missing required parameter `url': the `url' returned "
                "by the upload (or a public video URL).",
            )
        written = parse_writes(call.params, self.store.settings.limits(principal.partner))
        upload = self.uploads.check_source(written["url"], call.base_url)
        record = rules.new_video(self.store.new_video_id(), owner, to_columns(written), upload)
        rules.check_publishable(record)
        record["status"] = rules.status_of(record)
        video = self.store.create_video(record, written, principal.client_id)
        return self._render(call, video, names)

    # -- lists -----------------------------------------------------------------------
    def _list(self, call: Call, owner: str | None, visibility: Visibility) -> Any:
        names = self._fields(call)
        ceiling = self.store.settings.list_ceiling
        pages = paging(call.params, ceiling)
        query = parse_filter(call.params, owner)
        columns = video_columns(tuple(names)) | {"explicit"}  # the envelope's explicit flag
        total, videos = self.store.list_videos(query, visibility, pages, columns)
        items = render_videos(
            videos,
            names,
            owner_view=lambda owner: self.owner_view(call, owner),
            users=self.store.user,
        )
        return envelope(pages, total, items, ceiling, any(v["explicit"] for v in videos))

    def videos(self, call: Call) -> Any:
        if call.method == "POST":
            principal = self.need(call, "upload")
            return self._create(call, principal.account_id or "")
        return self._list(call, None, Visibility.PUBLIC)

    def my_videos(self, call: Call) -> Any:
        return self.user_videos(call, "me")

    def user_videos(self, call: Call, uid: str) -> Any:
        if call.method == "POST":
            self.need(call, "upload")
        user = self.resolve_user(call, uid)
        if call.method == "POST":
            return self._create(call, user["id"])
        own = self.owner_view(call, user["id"])
        return self._list(call, user["id"], Visibility.ALL if own else Visibility.PUBLIC)
