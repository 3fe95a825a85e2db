"""One legacy API call: from an HTTP request or a multi-call envelope, with its parameters.

Parameters come from the query string, then a form body (urlencoded or multipart), then a
JSON object body. Whatever the source, a value is a string, a number, a boolean, null or a
list of those (:func:`check_values`): nested objects are refused before any handler runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request

from dmtools.sandbox.api.legacy.errors import invalid_parameter
from dmtools.sandbox.api.legacy.writes import GLOBAL_PARAMS
from dmtools.sandbox.api.wire import flatten, read_json
from dmtools.sandbox.state.tokens import Principal

_SCALARS = (str, int, float, bool, type(None))


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

    @property
    def writes(self) -> list[str]:
        """The parameters that are not global ones (what a POST would write)."""
        return [name for name in self.params if name not in GLOBAL_PARAMS]


def check_values(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` if every value is a scalar or a list of scalars.

    Raises:
        ApiError: 400 ``invalid_parameter`` naming the first parameter holding an object.
    """
    for name, value in params.items():
        items = value if isinstance(value, list) else (value,)
        if not all(isinstance(item, _SCALARS) for item in items):
            raise invalid_parameter(
                name,
                f"Invalid value for `{name}': a string, number, boolean or a list of them "
                "is expected.",
            )
    return dict(params)


def request_params(request: Request) -> dict[str, Any]:
    """Query string, then form body (urlencoded or multipart), then a JSON object body."""
    params = flatten(request.args)
    if request.method in ("POST", "PUT", "DELETE", "PATCH"):
        if request.mimetype == "application/json":
            body = read_json(request)
            if body is not None and not isinstance(body, dict):
                raise invalid_parameter("body", "The JSON body must be an object of parameters.")
            params.update(check_values(body or {}))
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
