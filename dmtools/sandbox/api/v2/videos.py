"""API v2 video resources: profile video lists and creates, one video, upload sessions.

* ``GET /v2/profiles/{id}/videos`` (``video.read``): every video of one of the key's
  profiles; without a token (``v2_anonymous_reads``) the public videos of any profile.
* ``POST /v2/profiles/{id}/videos`` (``video.manage``): create from ``source.file_url``
  (an uploaded file, single use, or any http(s) URL) within the upload quotas → 201 with the
  video; its encoding then takes ``v2_processing_seconds`` (``processing.*``).
* ``GET /v2/videos/{id}``: a public video for anyone, any video of the key's profiles, and a
  private video by its private ``k...`` id (the id in its ``video_url``).
* ``PATCH /v2/videos/{id}`` (``video.manage``) → 204 with no body; ``DELETE`` → 204 (also for
  a video already gone, unless ``v2_delete_missing`` is 404).
* ``POST /v2/files/upload_sessions`` (``video.manage``) → 201 ``{upload_url, progress_url}``.

With ``etag_mode`` a read sends the video's version as ``ETag`` and a write with another
``If-Match`` version is a 412 ``PRECONDITION_FAILED``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from werkzeug.wrappers import Response

from dmtools.sandbox.api.base import Context
from dmtools.sandbox.api.v2.calls import Call, no_content
from dmtools.sandbox.api.v2.errors import invalid, not_found, profile_forbidden, unauthenticated
from dmtools.sandbox.api.v2.lists import LIST_PARAMS, envelope, paging, query, video_filter
from dmtools.sandbox.api.v2.views import VIDEO, View, render_videos, video_columns
from dmtools.sandbox.api.v2.writes import parse_body
from dmtools.sandbox.api.wire import if_match_version, json_response, read_json
from dmtools.sandbox.state import ledger, rules
from dmtools.sandbox.state.queries import VideoFilter, Visibility

_FIELDS = frozenset({"fields"})


def is_public(video: dict[str, Any]) -> bool:
    """What an anonymous caller may see: public visibility, published."""
    return bool(video["published"] and not video["private"] and video["password"] is None)


class VideoRoutes:
    """Handlers of the v2 video resources."""

    def __init__(self, ctx: Context) -> None:
        self.store = ctx.store
        self.uploads = ctx.uploads
        self.settings = ctx.store.settings

    # -- helpers -----------------------------------------------------------------------
    def _view(self, call: Call, selection: dict[str, Any], ids: list[str]) -> View:
        uploads = ledger.last_upload(self.store.db, ids) if "processing" in selection else {}
        return View(self.store.user, call.owns, uploads, self.settings.v2_processing_seconds)

    def _render(self, call: Call, videos: list[dict[str, Any]], selection: dict[str, Any]) -> list:
        view = self._view(call, selection, [v["id"] for v in videos])
        return render_videos(videos, selection, view)

    def _profile(self, pid: str) -> dict[str, Any]:
        user = self.store.user(pid)
        if user is None or user["id"] != pid:
            raise not_found("Profile", pid)
        return user

    def _source(self, call: Call, url: str) -> dict[str, Any] | None:
        """The upload behind a new source URL (None: an outside URL); an upload works once."""
        upload = self.uploads.check_source(url, call.base_url)
        if upload is not None and ledger.source_used(self.store.db, url):
            raise invalid(
                "source.file_url",
                "already_used",
                "This uploaded file was already used for a video: upload it again.",
                self.settings.v2_validation_status,
            )
        return upload

    def _etag(self, video: dict[str, Any]) -> dict[str, str]:
        return {"ETag": f'"{video["version"]}"'} if self.settings.etag_mode else {}

    def _if_match(self, call: Call) -> int | None:
        if not self.settings.etag_mode:
            return None
        return if_match_version(call.request.headers.get("If-Match"))

    def _anonymous_ok(self, call: Call) -> bool:
        if call.principal is not None:
            return False
        if not self.settings.v2_anonymous_reads:
            raise unauthenticated("missing_token")
        return True

    # -- lists and creates ---------------------------------------------------------------
    def profile_videos(self, call: Call, pid: str) -> Response:
        if call.request.method == "POST":
            return self._create(call, pid)
        anonymous = self._anonymous_ok(call)
        if not anonymous:
            call.need("video.read")
        params = query(call.request, LIST_PARAMS)
        selection = VIDEO.parse(params.get("fields"))
        self._profile(pid)
        if not anonymous:
            call.need_profile(pid, "video.read")
        pages = paging(params, self.settings.list_ceiling)
        found = video_filter(params, pid)
        if anonymous:  # public videos only
            found = _public_only(found)
        total, videos = self.store.list_videos(
            found,
            Visibility.PUBLIC if anonymous else Visibility.ALL,
            pages,
            video_columns(tuple(selection.items())),
        )
        videos = videos[: self.settings.list_ceiling - pages.offset]
        items = self._render(call, videos, selection)
        return json_response(envelope(call.request, pages, total, items, self.settings))

    def _create(self, call: Call, pid: str) -> Response:
        principal = call.need("video.manage")
        selection = VIDEO.parse(query(call.request, _FIELDS).get("fields"))
        owner = self._profile(pid)
        call.need_profile(pid, "video.manage")
        changes, written = parse_body(read_json(call.request), self.settings, None)
        upload = self._source(call, changes["source_url"])
        record = rules.new_video(self.store.new_video_id(), pid, changes, upload)
        record["published"] = True  # v2 creates and publishes
        rules.check_publishable(record)
        ledger.check_quota(
            self.store.db,
            self.settings,
            pid,
            premium=bool(owner["verified"]),
            duration=int(record["duration"]),
            size=None if upload is None else int(upload["size"]),
        )
        record["status"] = rules.status_of(record)
        video = self.store.create_video(record, written, principal.client_id)
        body = self._render(call, [video], selection)[0]
        return json_response(body, 201, {"Location": f"{call.base_url}/v2/videos/{video['id']}"})

    # -- one video -----------------------------------------------------------------------
    def _find(self, vid: str) -> dict[str, Any]:
        video = self.store.video(vid)
        if video is None and vid.startswith("k"):
            video = self.store.video_by_private_id(vid)
        if video is None:
            raise not_found("Video", vid)
        return video

    def video(self, call: Call, vid: str) -> Response:
        method = call.request.method
        if method == "PATCH":
            return self._edit(call, vid)
        if method == "DELETE":
            return self._delete(call, vid)
        anonymous = self._anonymous_ok(call)
        if not anonymous:
            call.need("video.read")
        selection = VIDEO.parse(query(call.request, _FIELDS).get("fields"))
        video = self._find(vid)
        by_private_id = vid != video["id"]
        if not (is_public(video) or by_private_id or call.owns(video["owner"])):
            if anonymous:
                raise not_found("Video", vid)
            raise profile_forbidden(video["owner"], "video.read")
        body = self._render(call, [video], selection)[0]
        return json_response(body, headers=self._etag(video))

    def _owned(self, call: Call, vid: str) -> dict[str, Any]:
        video = self.store.video(vid)
        if video is None:
            raise not_found("Video", vid)
        if not call.owns(video["owner"]):
            raise profile_forbidden(video["owner"], "video.manage")
        return video

    def _edit(self, call: Call, vid: str) -> Response:
        principal = call.need("video.manage")
        query(call.request, ())
        video = self._owned(call, vid)
        changes, written = parse_body(read_json(call.request), self.settings, video)
        rules.check_explicit(video, changes)
        if changes.get("source_url"):
            self._source(call, changes["source_url"])
        rules.check_publishable({**video, **changes})
        updated = self.store.update_video(
            vid,
            changes,
            client_id=principal.client_id,
            if_version=self._if_match(call),
            written=written,
        )
        if updated is None:  # deleted meanwhile
            raise not_found("Video", vid)
        return no_content(self._etag(updated))

    def _delete(self, call: Call, vid: str) -> Response:
        principal = call.need("video.manage")
        query(call.request, ())
        video = self.store.video(vid)
        gone = video is None
        if video is not None:
            if not call.owns(video["owner"]):
                raise profile_forbidden(video["owner"], "video.manage")
            gone = not self.store.delete_video(
                vid, client_id=principal.client_id, if_version=self._if_match(call)
            )
        if gone and self.settings.v2_delete_missing == 404:
            raise not_found("Video", vid)
        return no_content()

    # -- upload sessions ---------------------------------------------------------------
    def upload_session(self, call: Call) -> Response:
        principal = call.need("video.manage")
        query(call.request, ())
        target = self.uploads.new_target(call.base_url, principal.client_id)
        return json_response(target, 201)


def _public_only(found: VideoFilter) -> VideoFilter:
    """The filter an anonymous caller gets: public visibility (asking for another: nothing)."""
    if found.privacy in (None, "public"):
        return dataclasses.replace(found, privacy="public")
    return dataclasses.replace(found, ids=())
