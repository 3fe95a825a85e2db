"""Dailymotion API v2 (``api.dailymotion.com/v2``, tokens from ``oauth2.dailymotion.com``).

What makes this dialect (the mapping decisions are in :mod:`dmtools.dialects.base`; the
field table is :data:`dmtools.dialects._v2fields.WIRE`):

* private keys only, ``client_credentials`` only; JWT access tokens without refresh token,
  renewed :attr:`V2Dialect.renew_ahead` seconds before expiry and once more on any 401;
* JSON bodies; queries as text; ``PATCH /videos/{id}`` with only the changed fields answers
  204 with no body (the after-image is read back); ``DELETE`` answers 204;
* everything is per profile: ``GET /me`` lists the key's profiles, lists are
  ``/profiles/{id}/videos``; there is no global list;
* lists answer ``{"data", "pagination": {"page", "page_size", "total", "next"}}``; ``next``
  is an absolute URL (followed as is, on the same host only), ``page_size`` at most 100, at
  most 1,000 results per query; ``created_after``/``created_before`` are ISO 8601 and
  inclusive;
* errors are ``{"error": {"code", "message", "details"}}`` with string codes.

Example:
    >>> V2.first_page("/profiles/x1/videos", {"fields": "video_id"}, size=100).params
    {'fields': 'video_id', 'page': '1', 'page_size': '100'}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from dmtools import schema
from dmtools.dialects import _v2fields as f
from dmtools.dialects.base import Call, Dialect, Op, Page, segment
from dmtools.dialects.legacy import encode_value
from dmtools.errors import APIError, DailymotionError, ErrorBody, InputError, Problem

if TYPE_CHECKING:
    from dmtools.config import Endpoints

__all__ = ["V2", "V2Dialect"]

log = logging.getLogger(__name__)

_DEFAULT_OP: dict[str, Op] = {"GET": "read", "DELETE": "delete"}
_INVALID_INPUT = {"INVALID_PARAMETER", "MISSING_REQUIRED_PARAMETER"}
_READ = ("account.read", "video.read")
_MANAGE = (*_READ, "video.manage")
_SORTS = {"recent": "-created_at", "old": "created_at"}
#: canonical filter -> (v2 parameter, kind)
_FILTERS: dict[str, tuple[str, schema.Kind]] = {
    "tags": ("tags", "array"),
    "sort": ("sort", "string"),
    "created_after": ("created_after", "date"),
    "created_before": ("created_before", "date"),
    "private": ("visibility", "boolean"),
    "is_created_for_kids": ("is_for_kids", "boolean"),
    "explicit": ("is_explicit", "boolean"),
}


def _query(values: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(key): encode_value(value) for key, value in (values or {}).items()}


class V2Dialect(Dialect):
    """Dailymotion API v2: canonical records are mapped to and from v2's names and values."""

    name: ClassVar[str] = "v2"
    max_page_size: ClassVar[int] = 100
    list_ceiling: ClassVar[int] = 1000
    offset_pages: ClassVar[bool] = True
    window_inclusive: ClassVar[tuple[bool, bool]] = (True, True)
    partitions: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = (
        ("visibility", ("public", "private", "password")),
        ("is_for_kids", ("true", "false")),
        ("is_explicit", ("true", "false")),
    )
    renew_ahead: ClassVar[float] = 360.0
    reader_scopes: ClassVar[tuple[str, ...] | None] = ("video.read", "video.manage")
    access_scopes: ClassVar[Mapping[str, Mapping[str, tuple[str, ...]]] | None] = {
        "read-only": {"public": _READ, "private": _READ},
        "edit": {"public": _MANAGE, "private": _MANAGE},
        "delete": {"public": _MANAGE, "private": _MANAGE},
    }

    @property
    def grants(self) -> frozenset[str]:
        return frozenset({"client_credentials"})

    def base_url(self, endpoints: Endpoints, *, partner: bool) -> str:
        return endpoints.v2_api_url

    def token_url(self, endpoints: Endpoints, *, grant: str) -> str:
        return endpoints.v2_token_url

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
        body = dict(data) if data is not None else None
        kind = op or _DEFAULT_OP.get(method, "edit")
        return Call(method, path, _query(params), body, json=body is not None, op=kind)

    def read_error(self, status: int, payload: Any) -> ErrorBody | None:
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            return None
        details = dict(error["details"]) if isinstance(error.get("details"), dict) else {}
        code = error.get("code") if isinstance(error.get("code"), str) else None
        param = details.get("param")
        param = f.CANONICAL.get(str(param), str(param)) if param else None
        scope = details.get("required_scope")
        return ErrorBody(
            type=code,
            message=str(error.get("message") or ""),
            data=details,
            invalid_input=status in (400, 422) and code in _INVALID_INPUT,
            param=param,
            scope=str(scope) if scope else None,
            profile=str(details["profile_id"]) if details.get("profile_id") else None,
        )

    def stale_token(self, error: APIError) -> bool:
        return error.status == 401

    # -- account ------------------------------------------------------------------------------

    def account_call(self, fields: Sequence[str] | str | None) -> Call:
        return self.call("GET", "/me")

    def read_account(self, answer: Any) -> dict[str, Any]:
        if not isinstance(answer, dict):
            return {}
        out = {k: v for k, v in answer.items() if k not in ("user_id", "profiles")}
        if answer.get("user_id") is not None:
            out["id"] = answer["user_id"]
        return out

    def channels_call(self) -> Call:
        return self.call("GET", "/me")

    def read_channels(self, answer: Any) -> list[str]:
        return [str(p["profile_id"]) for p in self.read_profiles(answer)]

    def read_profiles(self, answer: Any) -> list[dict[str, Any]]:
        profiles = answer.get("profiles") if isinstance(answer, dict) else None
        found = [p for p in profiles or () if isinstance(p, dict) and p.get("profile_id")]
        return list(
            {
                str(p["profile_id"]): {**p, "profile_id": str(p["profile_id"])} for p in found
            }.values()
        )

    def logout_call(self) -> Call | None:
        return None  # v2 tokens are not revoked; they expire

    # -- videos -------------------------------------------------------------------------------

    def missing_fields(self, names: Sequence[str]) -> list[str]:
        return [name for name in names if name not in f.WIRE]

    def field_hint(self, name: str) -> str | None:
        return f.MISSING_HINTS.get(name)

    def fields_param(self, names: Sequence[str]) -> dict[str, str]:
        return {"fields": ",".join(f.wire_names(names))}

    def record(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return f.to_record(item)

    def video_call(self, video_id: str, names: Sequence[str]) -> Call:
        return Call("GET", f"/videos/{segment(video_id, 'video id')}", self.fields_param(names))

    def edit_call(
        self, video_id: str, values: Mapping[str, Any], names: Sequence[str] | None
    ) -> Call:
        path = f"/videos/{segment(video_id, 'video id')}"
        return Call("PATCH", path, body=f.to_body(values), json=True, op="edit")

    def read_edit(
        self, answer: Any, video_id: str, names: Sequence[str] | None
    ) -> dict[str, Any] | None:
        return {"id": video_id} if names is not None and set(names) <= {"id"} else None

    def delete_call(self, video_id: str) -> Call:
        return Call("DELETE", f"/videos/{segment(video_id, 'video id')}", op="delete")

    def check_edit(self, values: Mapping[str, Any], *, partner: bool) -> list[Problem]:
        return f.check_values(values)

    def limits(self, *, partner: bool) -> schema.FieldLimits:
        return f.LIMITS

    # -- lists --------------------------------------------------------------------------------

    @property
    def filters(self) -> Mapping[str, schema.Kind]:
        return {name: kind for name, (_, kind) in _FILTERS.items()}

    def encode_filter(self, name: str, value: Any) -> dict[str, str]:
        wire = _FILTERS[name][0]
        if name == "sort":
            if value not in _SORTS:
                raise ValueError(f"API v2 sorts by {', '.join(_SORTS)} only")
            return {"sort": _SORTS[value]}
        if name in ("created_after", "created_before"):
            return {wire: f.iso(value)}
        if name == "private":
            if not value:
                raise ValueError(
                    "API v2 filters by visibility: only private=True can be asked for "
                    "(not-private videos are public or password-protected)"
                )
            return {"visibility": "private"}
        return {wire: encode_value(value)}

    def list_path(self, owner: str | None, *, partner: bool) -> str | None:
        if owner is None:
            reason = (
                "API v2 has no list of every video: name a profile (profile=... or "
                "owner=profile id), or owner='me' for every profile of the key"
            )
            raise InputError(reason, [Problem(None, "owner", reason)])
        return None if owner == "me" else f"/profiles/{segment(owner, 'owner')}/videos"

    def first_page(self, path: str, params: Mapping[str, str], *, size: int) -> Call:
        query = dict(params)
        page_size = int(query.pop("page_size", size))
        if not 1 <= page_size <= self.max_page_size:
            raise ValueError(f"page_size must be between 1 and {self.max_page_size}")
        page = int(query.pop("page", 1))
        return Call("GET", path, {**query, "page": str(page), "page_size": str(page_size)})

    def read_page(self, answer: Any, call: Call) -> Page:
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise DailymotionError(
                f"GET {urlsplit(call.path).path} did not answer with a v2 list envelope"
            )
        paging = answer.get("pagination")
        paging = paging if isinstance(paging, dict) else answer
        following = paging.get("next", answer.get("next"))
        number = _int(paging.get("page")) or _int(call.params.get("page")) or 1
        size = _int(paging.get("page_size")) or _int(call.params.get("page_size")) or 1
        items = [self.record(item) for item in answer["data"]]
        total = _int(paging.get("total"))
        at_ceiling = len(items) >= size and number * size >= self.list_ceiling
        if not following and at_ceiling and (total is None or total > number * size):
            log.warning(
                "GET %s: stopped at the %d-result ceiling although more results may exist; "
                "split the query (for example by created_before)",
                urlsplit(call.path).path,
                self.list_ceiling,
            )
        more = bool(following) or (at_ceiling and total is None)
        next_call = Call("GET", str(following)) if following else None
        return Page(items, number, more, total, size, next_call)

    def window(self, after: int | None, before: int | None) -> dict[str, str]:
        out = {"created_after": f.iso(after)} if after is not None else {}
        return out | ({"created_before": f.iso(before)} if before is not None else {})

    def sort(self, *, oldest_first: bool) -> dict[str, str]:
        return {"sort": "created_at" if oldest_first else "-created_at"}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


#: The one API v2 dialect (stateless).
V2 = V2Dialect()
