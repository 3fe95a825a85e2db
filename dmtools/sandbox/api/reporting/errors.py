"""Error answers of the Reporting API: GraphQL ``errors`` arrays, whatever went wrong.

Every error, from a refused report (HTTP 200) to a bad token (401), a bad request body (400),
an unknown path (404) or an injected fault (503), is ``{"errors": [{"message", "extensions":
{"type", "reason"}}], "data": null}`` with ``Content-Type: application/json``, so a client
that reads ``errors[0].message`` always finds one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.wrappers import Response

#: The Content-Type of every GraphQL answer (clients compare it exactly).
JSON = "application/json"


class GraphQLRequestError(Exception):
    """A request refused before execution: HTTP ``status``, ``type`` and ``reason``."""

    def __init__(
        self,
        status: int,
        error_type: str,
        reason: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = error_type
        self.reason = reason
        self.message = message
        self.headers = dict(headers or {})


def answer(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A GraphQL answer (compact UTF-8 JSON)."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    response = Response(data, status=status, content_type=JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def errors_body(errors: Sequence[Mapping[str, Any]], with_data: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"errors": [dict(e) for e in errors]}
    if with_data:
        body["data"] = None
    return body


def error(message: str, error_type: str, reason: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"type": error_type, "reason": reason}}


def request_error(exc: GraphQLRequestError) -> Response:
    return answer(errors_body([error(exc.message, exc.type, exc.reason)]), exc.status, exc.headers)
