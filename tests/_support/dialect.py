"""A second API dialect that exists only here, to prove the seam: the "v9" API.

It differs from the legacy Platform API the way API v2 does: other paths (``/v9/...``),
renamed and nested fields (``video_id``, ``category``, ``visibility``, ``is_for_kids``,
``profile.profile_id``), ISO 8601 dates, JSON bodies, ``PATCH`` answered 204 with no body,
``data`` + ``pagination.next`` (absolute URLs) lists with ``page_size`` at most 20 and a
ceiling of 100 results, inclusive date filters, profiles instead of channels, string error
codes. :func:`serve` runs it as a tiny WSGI app on 127.0.0.1 (real HTTP); :class:`V9` is its
dialect, written against :class:`dmtools.dialects.Dialect` only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from dmtools import schema
from dmtools.config import Endpoints
from dmtools.dialects import Call, Dialect, Op, Page, segment
from dmtools.errors import APIError, ErrorBody, InputError, Problem

PAGE_MAX, CEILING = 20, 100
#: canonical field -> v9 wire field (dotted: nested object)
WIRE = {
    "id": "video_id",
    "title": "title",
    "description": "description",
    "tags": "tags",
    "channel": "category",
    "private": "visibility",
    "is_created_for_kids": "is_for_kids",
    "owner": "profile.profile_id",
    "created_time": "created_at",
    "updated_time": "updated_at",
}
FIELDS = [name for name in WIRE if name != "id"]
WRITABLE = {"title", "description", "tags", "category", "visibility", "is_for_kids"}


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


# -- the server ----------------------------------------------------------------------------


@dataclass
class V9Server:
    """State of the v9 API: videos by id (wire form), valid tokens, a log of requests."""

    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, set[str]] = field(default_factory=dict)  # token -> scopes
    log: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start: Any) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(size)) if size else None
        with self.lock:
            self.log.append((method, path, query, body))
            status, answer = self.route(method, path, query, body, environ)
        data = b"" if answer is None else json.dumps(answer).encode()
        headers = [("Content-Type", "application/json")] if data else []
        start(status, headers + [("Content-Length", str(len(data)))])
        return [data]

    def route(self, method: str, path: str, query: dict[str, str], body: Any, env: Any) -> Any:
        scopes = self.tokens.get(env.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer "))
        if scopes is None:
            return error(401, "UNAUTHENTICATED", "expired or unknown token", reason="expired")
        parts = path.strip("/").split("/")
        if method in ("PATCH", "DELETE") and "video.manage" not in scopes:
            return error(403, "MISSING_PERMISSIONS", "no", required_scope="video.manage")
        if parts == ["v9", "me"]:
            owners = sorted({v["profile"]["profile_id"] for v in self.videos.values()})
            return "200 OK", {"user_id": "u9", "profiles": [{"profile_id": p} for p in owners]}
        if len(parts) == 4 and parts[1] == "profiles" and method == "GET":
            return self.listing(parts[2], query)
        if len(parts) == 3 and parts[1] == "videos":
            return self.video(method, parts[2], query, body)
        return error(404, "RESOURCE_NOT_FOUND", f"no route {path}")

    def video(self, method: str, vid: str, query: dict[str, str], body: Any) -> Any:
        video = self.videos.get(vid)
        if video is None:
            return error(404, "RESOURCE_NOT_FOUND", f"no video {vid}", param="video_id")
        if method == "GET":
            return "200 OK", pick(video, query.get("fields", ""))
        if method == "DELETE":
            del self.videos[vid]
            return "204 No Content", None
        for key, value in (body or {}).items():
            if key not in WRITABLE:
                return error(400, "INVALID_PARAMETER", f"{key} is not writable", param=key)
            if key == "title" and not (isinstance(value, str) and 1 <= len(value) <= 255):
                return error(400, "INVALID_PARAMETER", "title: 1 to 255 characters", param=key)
        video.update(body or {})
        video["updated_at"] = iso(1_800_000_000)
        return "204 No Content", None

    def listing(self, profile: str, q: dict[str, str]) -> Any:
        page, size = int(q.get("page", 1)), int(q.get("page_size", 10))
        if not 1 <= size <= PAGE_MAX or (page - 1) * size >= CEILING:
            return error(400, "INVALID_PARAMETER", "page out of range", param="page")
        rows = [v for v in self.videos.values() if v["profile"]["profile_id"] == profile]
        for name in ("category", "visibility"):
            rows = [v for v in rows if name not in q or v[name] == q[name]]
        if "created_after" in q:
            rows = [v for v in rows if unix(v["created_at"]) >= unix(q["created_after"])]
        if "created_before" in q:
            rows = [v for v in rows if unix(v["created_at"]) <= unix(q["created_before"])]
        newest = q.get("sort", "-created_at") == "-created_at"
        rows.sort(key=lambda v: (unix(v["created_at"]), v["video_id"]), reverse=newest)
        more = page * size < min(len(rows), CEILING)
        following = f"{self.url}/v9/profiles/{profile}/videos?" + urlencode({**q, "page": page + 1})
        pagination = {"page": page, "page_size": size, "total": len(rows)}
        pagination["next"] = following if more else None
        items = [pick(v, q.get("fields", "")) for v in rows[(page - 1) * size : page * size]]
        return "200 OK", {"data": items, "pagination": pagination}


def pick(video: Mapping[str, Any], fields: str) -> dict[str, Any]:
    """The asked fields of a video, nested objects kept nested (``profile.profile_id``)."""
    out: dict[str, Any] = {}
    for name in filter(None, fields.split(",")):
        top, _, sub = name.partition(".")
        if top in video:
            out[top] = {sub: video[top][sub]} if sub else video[top]
    return out


def error(status: int, code: str, message: str, **details: Any) -> tuple[str, Any]:
    reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
    body = {"error": {"code": code, "message": message, "details": details}}
    return f"{status} {reasons[status]}", body


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def serve(server: V9Server) -> Iterator[V9Server]:
    """Serve ``server`` on 127.0.0.1 (an ephemeral port) in a thread; ``server.url`` is set."""
    httpd = make_server("127.0.0.1", 0, server, _ThreadedServer, handler_class=_Quiet)
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# -- the dialect ---------------------------------------------------------------------------


class V9(Dialect):
    """The v9 API, seen through the dialect interface only."""

    name = "v9"
    max_page_size = PAGE_MAX
    list_ceiling = CEILING
    window_inclusive = (True, True)
    partitions = (("category", schema.CATEGORIES), ("visibility", ("private", "public")))

    @property
    def grants(self) -> frozenset[str]:
        return frozenset({"client_credentials"})

    def base_url(self, endpoints: Endpoints, *, partner: bool) -> str:
        return endpoints.api_url + "/v9"

    def token_url(self, endpoints: Endpoints, *, grant: str) -> str:
        return endpoints.api_url + "/v9/token"

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        op: Op | None = None,
    ) -> Call:
        text = {
            k: ",".join(v) if isinstance(v, list) else str(v) for k, v in (params or {}).items()
        }
        kind: Op = op or ("read" if method == "GET" else "edit")
        return Call(method.upper(), path, text, dict(data) if data else None, json=True, op=kind)

    def read_error(self, status: int, payload: Any) -> ErrorBody | None:
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            return None
        details = error.get("details") or {}
        return ErrorBody(
            type=error.get("code"),
            message=str(error.get("message") or ""),
            data=details,
            invalid_input=error.get("code") in ("INVALID_PARAMETER", "MISSING_REQUIRED_PARAMETER"),
            param=details.get("param"),
            scope=details.get("required_scope"),
        )

    def stale_token(self, error: APIError) -> bool:
        return error.status == 401

    def account_call(self, fields: Sequence[str] | str | None) -> Call:
        return Call("GET", "/me")

    def read_account(self, answer: Any) -> dict[str, Any]:
        return {"id": answer["user_id"]}

    def channels_call(self) -> Call:
        return Call("GET", "/me")

    def read_channels(self, answer: Any) -> list[str]:
        return [p["profile_id"] for p in answer["profiles"]]

    def logout_call(self) -> Call | None:
        return None

    def missing_fields(self, names: Sequence[str]) -> list[str]:
        return [n for n in names if n not in WIRE]

    def fields_param(self, names: Sequence[str]) -> dict[str, str]:
        return {"fields": ",".join(WIRE[n] for n in names if n in WIRE)}

    def record(self, item: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, wire in WIRE.items():
            top, _, sub = wire.partition(".")
            if top in item:
                out[name] = item[top][sub] if sub else item[top]
        if "private" in out:
            out["private"] = out["private"] == "private"
        for name in ("created_time", "updated_time"):
            if name in out:
                out[name] = unix(out[name])
        return out

    def video_call(self, video_id: str, names: Sequence[str]) -> Call:
        return Call("GET", f"/videos/{segment(video_id, 'video id')}", self.fields_param(names))

    def edit_call(
        self, video_id: str, values: Mapping[str, Any], names: Sequence[str] | None
    ) -> Call:
        body = {WIRE[k]: v for k, v in values.items()}
        if "visibility" in body:
            body["visibility"] = "private" if body["visibility"] else "public"
        path = f"/videos/{segment(video_id, 'video id')}"
        return Call("PATCH", path, body=body, json=True, op="edit")

    def read_edit(
        self, answer: Any, video_id: str, names: Sequence[str] | None
    ) -> dict[str, Any] | None:
        return {"id": video_id} if names is not None and set(names) <= {"id"} else None

    def delete_call(self, video_id: str) -> Call:
        return Call("DELETE", f"/videos/{segment(video_id, 'video id')}", op="delete")

    def check_edit(self, values: Mapping[str, Any], *, partner: bool) -> list[Problem]:
        limits = self.limits(partner=partner)
        problems = [
            Problem(None, name, reason)
            for name, value in values.items()
            if (reason := schema.check_value(name, value, limits)) is not None
        ]
        return problems + [
            Problem(None, name, "not writable through the v9 API")
            for name in values
            if name in schema.VIDEO_FIELDS and name not in WIRE
        ]

    def limits(self, *, partner: bool) -> schema.FieldLimits:
        return schema.FieldLimits(title=255, description=3000)

    @property
    def filters(self) -> Mapping[str, schema.Kind]:
        return {k: schema.VIDEO_FILTERS[k] for k in ("channel", "private", "sort")} | {
            "created_after": "date",
            "created_before": "date",
        }

    def encode_filter(self, name: str, value: Any) -> dict[str, str]:
        if name == "channel":
            return {"category": value}
        if name == "private":
            return {"visibility": "private" if value else "public"}
        if name == "sort":
            orders = {"recent": "-created_at", "old": "created_at"}
            if value not in orders:
                raise ValueError("the v9 API sorts by creation time only")
            return {"sort": orders[value]}
        return {name: iso(value)}  # created_after, created_before

    def list_path(self, owner: str | None, *, partner: bool) -> str | None:
        if owner is None:
            raise InputError("the v9 API has no global list", [Problem(None, "owner", "None")])
        return None if owner == "me" else f"/profiles/{segment(owner, 'owner')}/videos"

    def first_page(self, path: str, params: Mapping[str, str], *, size: int) -> Call:
        if not 1 <= size <= PAGE_MAX:
            raise ValueError(f"page_size must be between 1 and {PAGE_MAX}")
        return Call("GET", path, {**params, "page": "1", "page_size": str(size)})

    def read_page(self, answer: Any, call: Call) -> Page:
        pagination = answer["pagination"]
        following = pagination.get("next")
        return Page(
            [self.record(item) for item in answer["data"]],
            pagination["page"],
            following is not None,
            pagination.get("total"),
            pagination["page_size"],
            Call("GET", following) if following else None,
        )

    def window(self, after: int | None, before: int | None) -> dict[str, str]:
        out = {"created_after": iso(after)} if after is not None else {}
        return out | ({"created_before": iso(before)} if before is not None else {})

    def sort(self, *, oldest_first: bool) -> dict[str, str]:
        return {"sort": "created_at" if oldest_first else "-created_at"}


@dataclass
class Tokens:
    """A token manager for the v9 server: a current token, renewed on demand."""

    endpoints: Endpoints
    current: str = "t1"
    renewed: int = 0
    scopes: tuple[str, ...] = ("video.read", "video.manage")
    expires_at: Any = None
    uid: str | None = None
    is_partner: bool = True
    client_id: str = "v9-key"
    grant: str = "client_credentials"

    def access_token(self) -> str:
        return self.current

    def handle_unauthorized(self, used_token: str) -> str:
        self.renewed += 1
        self.current = f"t{self.renewed + 1}"
        return self.current
