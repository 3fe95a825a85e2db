"""The legacy Dailymotion Platform API (REST, ``api.dailymotion.com`` and the partner host).

What makes this dialect (see :mod:`dmtools.dialects.base` for the interface):

* public keys call ``api.dailymotion.com``; private keys call ``/rest`` on the partner host,
  after a ``client_credentials`` token from ``/oauth/v1/token``;
* query values and POST bodies are form-encoded text: booleans ``true``/``false``, lists
  comma-separated, dates unix seconds (:func:`encode_value`);
* ``POST /video/<id>`` edits and answers with the video (the fields asked for); ``DELETE``
  answers ``{}``;
* lists answer ``{"page", "limit", "total", "has_more", "list"}``; ``limit`` and ``page`` are at
  most 100 and at most 1,000 results are reachable (``page * limit``);
* errors are ``{"error": {"code", "message", "type", "error_data"}}``;
* field names, values and filters are the canonical ones: records are the identity;
* batching: ``GET /me/videos?ids=...`` reads up to 100 videos in one request, and ``POST /``
  with a JSON array of up to 10 ``{call, args, id}`` objects (multi-call) carries up to 10
  edits or deletes, answered by an array of ``{id, result}`` / ``{id, error}``.

Example:
    >>> LEGACY.first_page("/me/videos", {"fields": "id"}, size=100).params
    {'fields': 'id', 'page': '1', 'limit': '100'}
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from dmtools import schema
from dmtools.dialects.base import BatchAnswer, Call, Dialect, Op, Page, segment
from dmtools.errors import APIError, DailymotionError, ErrorBody, Problem

if TYPE_CHECKING:
    from dmtools.config import Endpoints

__all__ = ["LEGACY", "LegacyDialect", "encode_value"]

log = logging.getLogger(__name__)

_DEFAULT_OP: dict[str, Op] = {"GET": "read", "DELETE": "delete"}
_STALE = {None, "invalid_token", "expired_token"}
_INVALID_INPUT = {"invalid_parameter", "missing_required_parameter"}
_SCOPE_REQUIRED = re.compile(r"scope required: ([\w ,]+)")
#: Most calls one multi-call request carries (the JS SDK's limit; the sandbox's too).
MAX_CALLS = 10
#: Pages past this number are refused.
MAX_PAGE = schema.MAX_PAGE


def encode_value(value: Any) -> str:
    """One parameter as the API reads it: booleans ``true``/``false``, lists comma-separated.

    Example:
        >>> encode_value(["a", "b"]), encode_value(True), encode_value(None)
        ('a,b', 'true', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(encode_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _encode(values: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(key): encode_value(value) for key, value in (values or {}).items()}


class LegacyDialect(Dialect):
    """The legacy Platform API: canonical names and values are its own."""

    name: ClassVar[str] = "legacy"
    max_page_size: ClassVar[int] = schema.MAX_LIMIT
    list_ceiling: ClassVar[int] = schema.LIST_CEILING
    offset_pages: ClassVar[bool] = True
    partitions: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = (
        ("channel", schema.CATEGORIES),
        ("private", ("true", "false")),
    )

    @property
    def grants(self) -> frozenset[str]:
        return frozenset(("client_credentials", "password", "authorization_code", "refresh_token"))

    def base_url(self, endpoints: Endpoints, *, partner: bool) -> str:
        return endpoints.partner_url if partner else endpoints.api_url

    def token_url(self, endpoints: Endpoints, *, grant: str) -> str:
        return endpoints.partner_token_url if grant == "client_credentials" else endpoints.token_url

    # -- the wire -----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        op: Op | None = None,
    ) -> Call:
        method = method.upper()
        body = _encode(data) if data is not None else None
        return Call(method, path, _encode(params), body, op=op or _DEFAULT_OP.get(method, "edit"))

    def read_error(self, status: int, payload: Any) -> ErrorBody | None:
        if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
            return None
        error = payload["error"]
        kind = error.get("type") if isinstance(error.get("type"), str) else None
        message = str(error.get("message") or "")
        data = dict(error["error_data"]) if isinstance(error.get("error_data"), dict) else {}
        found = _SCOPE_REQUIRED.search(message)
        param = data.get("param") or data.get("field")
        return ErrorBody(
            type=kind,
            message=message,
            data=data,
            invalid_input=status == 400 and kind in _INVALID_INPUT,
            param=str(param) if param else None,
            scope=str(data.get("scope") or "") or (found.group(1).strip() if found else None),
        )

    def stale_token(self, error: APIError) -> bool:
        return error.status == 401 and error.type in _STALE

    # -- account ------------------------------------------------------------------------------

    def account_call(self, fields: Sequence[str] | str | None) -> Call:
        return self.call("GET", "/me", params={"fields": fields} if fields else None)

    def read_account(self, answer: Any) -> dict[str, Any]:
        return dict(answer) if isinstance(answer, dict) else {}

    def channels_call(self) -> Call:
        return self.call("GET", "/auth")

    def read_channels(self, answer: Any) -> list[str]:
        channels = answer.get("channels") if isinstance(answer, dict) else None
        if isinstance(channels, str):
            channels = [c for c in channels.split(",") if c]
        return list(dict.fromkeys(str(c) for c in channels or ()))

    def logout_call(self) -> Call | None:
        return self.call("GET", "/logout", op="auth")

    # -- videos -------------------------------------------------------------------------------

    def missing_fields(self, names: Sequence[str]) -> list[str]:
        return schema.unknown_fields(names)

    def fields_param(self, names: Sequence[str]) -> dict[str, str]:
        return {"fields": ",".join(names)}

    def record(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return item if isinstance(item, dict) else dict(item)

    def video_call(self, video_id: str, names: Sequence[str]) -> Call:
        path = f"/video/{segment(video_id, 'video id')}"
        return Call("GET", path, self.fields_param(names))

    def edit_call(
        self, video_id: str, values: Mapping[str, Any], names: Sequence[str] | None
    ) -> Call:
        path = f"/video/{segment(video_id, 'video id')}"
        params = self.fields_param(names) if names else {}
        return Call("POST", path, params, _encode(values), op="edit")

    def read_edit(
        self, answer: Any, video_id: str, names: Sequence[str] | None
    ) -> dict[str, Any] | None:
        return answer if isinstance(answer, dict) else None

    def delete_call(self, video_id: str) -> Call:
        return Call("DELETE", f"/video/{segment(video_id, 'video id')}", op="delete")

    def check_edit(self, values: Mapping[str, Any], *, partner: bool) -> list[Problem]:
        limits = self.limits(partner=partner)
        return [
            Problem(None, name, reason)
            for name, value in values.items()
            if (reason := schema.check_value(name, value, limits)) is not None
        ]

    def limits(self, *, partner: bool) -> schema.FieldLimits:
        return schema.LIMITS_PARTNER if partner else schema.LIMITS_PUBLIC

    # -- lists --------------------------------------------------------------------------------

    @property
    def filters(self) -> Mapping[str, schema.Kind]:
        return schema.VIDEO_FILTERS

    def encode_filter(self, name: str, value: Any) -> dict[str, str]:
        if isinstance(value, float) and value.is_integer():
            return {name: str(int(value))}  # 10, not 10.0
        return {name: encode_value(value)}

    def list_path(self, owner: str | None, *, partner: bool) -> str | None:
        if owner is None:
            return "/videos"
        if owner == "me":
            return None if partner else "/me/videos"
        return f"/user/{segment(owner, 'owner')}/videos"

    def first_page(self, path: str, params: Mapping[str, str], *, size: int) -> Call:
        query = dict(params)
        limit = int(query.pop("limit", size))
        if not 1 <= limit <= self.max_page_size:
            raise ValueError(f"limit must be between 1 and {self.max_page_size}, got {limit}")
        page = int(query.pop("page", 1))
        return Call("GET", path, {**query, "page": str(page), "limit": str(limit)})

    def read_page(self, answer: Any, call: Call) -> Page:
        if not isinstance(answer, dict) or not isinstance(answer.get("list"), list):
            raise DailymotionError(
                f"GET {urlsplit(call.path).path} did not answer with a list envelope"
            )
        number, size = int(call.params["page"]), int(call.params["limit"])
        total = answer.get("total")
        page = Page(
            [self.record(item) for item in answer["list"]],
            number,
            bool(answer.get("has_more")),
            total if isinstance(total, int) and not isinstance(total, bool) else None,
            size,
        )
        if not page.more:
            return page
        if number + 1 > MAX_PAGE or (number + 1) * size > self.list_ceiling:
            log.warning(
                "GET %s: stopped at the %d-result ceiling although more results "
                "exist; split the query (for example by created_before)",
                urlsplit(call.path).path,
                self.list_ceiling,
            )
            return page
        following = {**call.params, "page": str(number + 1)}
        return Page(page.items, number, True, page.total, size, Call("GET", call.path, following))

    def window(self, after: int | None, before: int | None) -> dict[str, str]:
        out: dict[str, str] = {}
        if after is not None:
            out["created_after"] = str(after)
        if before is not None:
            out["created_before"] = str(before)
        return out

    def sort(self, *, oldest_first: bool) -> dict[str, str]:
        return {"sort": "old" if oldest_first else "recent"}

    # -- batching (bulk engine) -----------------------------------------------------------------

    batch_read_size: ClassVar[int] = schema.MAX_LIMIT
    batch_call_size: ClassVar[int] = MAX_CALLS

    def batch_read_call(self, video_ids: Sequence[str], names: Sequence[str]) -> Call:
        if not 1 <= len(video_ids) <= self.batch_read_size:
            raise ValueError(f"a batched read takes 1 to {self.batch_read_size} video ids")
        ids = ",".join(segment(vid, "video id") for vid in video_ids)
        params = {**self.fields_param(list(dict.fromkeys(["id", *names]))), "ids": ids}
        return self.first_page("/me/videos", params, size=len(video_ids))

    def read_batch(self, answer: Any, call: Call) -> list[dict[str, Any]]:
        return self.read_page(answer, call).items

    def batch_call(self, calls: Sequence[Call]) -> Call:
        if not 1 <= len(calls) <= self.batch_call_size:
            raise ValueError(f"a multi-call carries 1 to {self.batch_call_size} calls")
        body = [
            {"call": f"{c.method} {c.path}", "args": {**c.params, **(c.body or {})}, "id": i}
            for i, c in enumerate(calls)
        ]
        op: Op = "edit" if any(c.op != "delete" for c in calls) else "delete"
        return Call("POST", "/", {}, body, json=True, op=op)

    def read_batch_answers(self, answer: Any, calls: Sequence[Call]) -> list[BatchAnswer] | None:
        if not isinstance(answer, list) or len(answer) != len(calls):
            return None
        found: dict[int, BatchAnswer] = {}
        for item in answer:
            key = item.get("id") if isinstance(item, dict) else None
            if not isinstance(key, int) or isinstance(key, bool) or key in found:
                return None
            if "error" in item:
                code = item["error"].get("code") if isinstance(item["error"], dict) else None
                # an error without a usable status may hide a processed call: in doubt (500)
                status = code if isinstance(code, int) and 400 <= code < 600 else 500
                found[key] = BatchAnswer(status=status, error=item["error"] or {})
            elif "result" in item:
                found[key] = BatchAnswer(result=item["result"])
            else:
                return None
        if sorted(found) != list(range(len(calls))):
            return None
        return [found[i] for i in range(len(calls))]


#: The one legacy dialect (stateless).
LEGACY = LegacyDialect()
