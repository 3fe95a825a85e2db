"""The sandbox's upload server, shared by every dialect: targets, multipart and chunked
uploads, progress.

``GET /file/upload`` hands out ``{upload_url, progress_url}`` on the sandbox itself. The upload
URL takes either a ``multipart/form-data`` POST with the file in field ``file``, or raw chunks
with ``Content-Range: bytes START-END/TOTAL`` (answered ``202`` with a ``Range`` header listing
what arrived, until the last byte arrives, then ``200``). Every answer is JSON with
``Content-Type: application/json``. The file's bytes are not kept: only name, size and hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.http import parse_options_header
from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.wire import json_response
from dmtools.sandbox.state.errors import RuleViolation
from dmtools.sandbox.state.store import Store

MAX_UPLOAD_REQUEST = 256 << 20
MAX_TARGETS = 10_000
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass
class Target:
    uuid: str
    seal: str
    created: float
    total: int | None = None
    ranges: list[tuple[int, int]] = field(default_factory=list)
    chunk_hashes: dict[int, str] = field(default_factory=dict)
    name: str = "video.mp4"
    result: dict[str, Any] | None = None

    @property
    def received(self) -> int:
        return sum(end - start + 1 for start, end in self.ranges)

    def range_header(self) -> str:
        spans = ",".join(f"{s}-{e}" for s, e in self.ranges)
        return f"{spans}/{self.total if self.total is not None else '*'}"

    def add(self, start: int, end: int) -> None:
        merged: list[tuple[int, int]] = []
        for s, e in sorted([*self.ranges, (start, end)]):
            if merged and s <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        self.ranges = merged


def _upload_error(status: int, message: str, headers: dict[str, str] | None = None) -> ApiError:
    kind = "invalid_parameter" if status < 500 else "server_error"
    return ApiError(status, kind, message, headers=headers)


class Uploads:
    """Upload targets of one sandbox (kept in memory; finished uploads go to the store)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._secret = secrets.token_bytes(16)
        self._targets: OrderedDict[str, Target] = OrderedDict()
        self._lock = threading.Lock()

    def _seal(self, uuid: str) -> str:
        return hmac.new(self._secret, uuid.encode(), hashlib.sha256).hexdigest()[:24]

    def new_target(self, base_url: str, client_id: str) -> dict[str, str]:
        uuid = secrets.token_hex(16)
        with self._lock:
            self._targets[uuid] = Target(uuid, self._seal(uuid), time.time())
            while len(self._targets) > MAX_TARGETS:
                self._targets.popitem(last=False)
        return {
            "upload_url": f"{base_url}/upload?uuid={uuid}&seal={self._seal(uuid)}",
            "progress_url": f"{base_url}/progress?uuid={uuid}",
        }

    def check_source(self, url: str, base_url: str) -> dict[str, Any] | None:
        """The upload record behind a sandbox file URL; None if the URL is external.

        Raises:
            RuleViolation: a sandbox file URL of no upload.
        """
        parts, base = urlsplit(url), urlsplit(base_url)
        if parts.path.startswith("/upload/files/") and parts.hostname in (
            base.hostname,
            "127.0.0.1",
            "localhost",
            "::1",
        ):
            record = self.store.upload(url.split("#", 1)[0])
            if record is None:
                raise RuleViolation(
                    "url",
                    "Invalid value for `url': unknown upload (upload "
                    "the file first and use the `url' it returns).",
                )
            return record
        return None

    def _target(self, request: Request) -> Target | None:
        uuid = request.args.get("uuid", "")
        with self._lock:
            target = self._targets.get(uuid)
        if target is None or not hmac.compare_digest(target.seal, request.args.get("seal", "")):
            return None
        return target

    def upload(self, request: Request) -> Response:
        if request.method != "POST":
            raise _upload_error(405, "Upload with POST.", {"Allow": "POST"})
        request.max_content_length = MAX_UPLOAD_REQUEST
        target = self._target(request)
        if target is None:
            raise _upload_error(400, "invalid upload URL (unknown uuid or bad seal)")
        if target.result is not None:
            return json_response(target.result)
        if request.headers.get("Content-Range"):
            return self._chunk(request, target)
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None:
                raise _upload_error(400, "missing file")
            digest, size = hashlib.sha1(usedforsecurity=False), 0
            while chunk := upload.stream.read(1 << 16):
                digest.update(chunk)
                size += len(chunk)
            name = upload.filename or "video.mp4"
            return json_response(self._finish(request, target, name, size, digest.hexdigest()))
        data = request.get_data(cache=False)
        if not data:
            raise _upload_error(400, "missing file")
        name = self._filename(request) or "video.mp4"
        digest_text = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        return json_response(self._finish(request, target, name, len(data), digest_text))

    @staticmethod
    def _filename(request: Request) -> str | None:
        _, options = parse_options_header(request.headers.get("Content-Disposition", ""))
        name = options.get("filename*") or options.get("filename")
        if name and name.lower().startswith("utf-8''"):
            name = unquote(name[7:])
        return name or None

    def _chunk(self, request: Request, target: Target) -> Response:
        match = _RANGE.match(request.headers.get("Content-Range", "").strip())
        data = request.get_data(cache=False)
        with self._lock:
            if match is None:
                raise _upload_error(
                    416,
                    "malformed Content-Range (bytes START-END/TOTAL)",
                    {"Range": target.range_header()},
                )
            start, end, total = (int(g) for g in match.groups())
            bad = (
                end < start
                or end >= total
                or len(data) != end - start + 1
                or (target.total is not None and total != target.total)
            )
            if bad:
                raise _upload_error(
                    416,
                    "Content-Range does not match the chunk or the file size",
                    {"Range": target.range_header()},
                )
            target.total = total
            target.name = self._filename(request) or target.name
            target.add(start, end)
            target.chunk_hashes[start] = hashlib.sha1(data, usedforsecurity=False).hexdigest()
            complete = target.ranges == [(0, total - 1)]
            received, header = target.received, target.range_header()
        if not complete:
            return json_response(
                {"status": "incomplete", "received": received, "size": total},
                202,
                {"Range": header},
            )
        digest = hashlib.sha1(
            "".join(v for _, v in sorted(target.chunk_hashes.items())).encode(),
            usedforsecurity=False,
        ).hexdigest()
        return json_response(self._finish(request, target, target.name, total, digest))

    def _finish(
        self, request: Request, target: Target, name: str, size: int, digest: str
    ) -> dict[str, Any]:
        base = request.host_url.rstrip("/")
        url = f"{base}/upload/files/{target.uuid}.mp4"
        duration = max(1, size // 50_000)
        self.store.register_upload(url, name, size, digest, duration)
        result = {
            "url": url,
            "name": name,
            "size": size,
            "hash": digest,
            "format": "MPEG-4",
            "duration": duration * 1000,
            "dimension": "1280x720",
            "acodec": "AAC",
            "vcodec": "AVC",
            "bitrate": 1_000_000,
            "streamable": "No",
            "seal": target.seal,
        }
        with self._lock:
            target.total = size
            target.ranges = [(0, size - 1)] if size else []
            target.result = result
        return result

    def progress(self, request: Request) -> Response:
        uuid = request.args.get("uuid", "")
        with self._lock:
            target = self._targets.get(uuid)
            if target is None:
                raise _upload_error(404, "unknown upload")
            received, total, result = target.received, target.total, target.result
        state = "done" if result else ("uploading" if received else "waiting")
        percent = 100 if result else (int(received * 100 / total) if total else 0)
        return json_response(
            {
                "uuid": uuid,
                "state": state,
                "progress": percent,
                "received": received,
                "size": total,
                "url": result["url"] if result else None,
            }
        )
