"""Request parsing and response helpers shared by the sandbox's route modules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from dmtools.sandbox.apierrors import ApiError, OAuthError, invalid_parameter
from dmtools.sandbox.tokens import Principal

MAX_BODY = 1 << 20

#: Parameters valid on every call; accepted and ignored.
GLOBAL_PARAMS = frozenset(
    {
        "access_token",
        "fields",
        "family_filter",
        "localization",
        "ams_country",
        "context",
        "device_filter",
        "ssl_assets",
        "thumbnail_ratio",
        "callback",
    }
)


@dataclass
class Call:
    """One API call, from an HTTP request or from a multi-call envelope."""

    method: str
    path: str  # without the /rest prefix
    params: dict[str, Any]
    partner: bool
    base_url: str
    principal: Principal | None = None
    environ: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers

    @property
    def route(self) -> str:
        return f"{self.method} {('/rest' if self.partner else '') + self.path}"


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    response = Response(body, status=status, content_type="application/json; charset=utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: ApiError | OAuthError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def flatten(multi: MultiDict[str, Any]) -> dict[str, Any]:
    """A MultiDict as a dict: one value as is, repeated keys as a list."""
    out: dict[str, Any] = {}
    for key in multi:
        values = multi.getlist(key)
        out[key] = values[0] if len(values) == 1 else list(values)
    return out


def read_json(request: Request) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid_parameter("body", "Malformed JSON body.") from None


def request_params(request: Request) -> dict[str, Any]:
    """Query string, then form body (urlencoded or multipart), then a JSON object body."""
    params = flatten(request.args)
    if request.method in ("POST", "PUT", "DELETE", "PATCH"):
        if request.mimetype == "application/json":
            body = read_json(request)
            if body is not None and not isinstance(body, dict):
                raise invalid_parameter("body", "The JSON body must be an object of parameters.")
            params.update(body or {})
        else:
            params.update(flatten(request.form))
    return params


def bearer_token(request: Request, params: Mapping[str, Any]) -> str | None:
    """The access token of a call: ``Authorization: Bearer`` or the ``access_token`` parameter."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    token = params.get("access_token")
    return token if isinstance(token, str) and token else None
