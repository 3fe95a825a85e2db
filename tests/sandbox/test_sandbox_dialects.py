"""The dialect seam: a second API dialect plugs in beside the legacy one without touching it.

A small dialect defined here (paths under ``/v2/``, its own error body) is served next to the
legacy API by one server: same store and tokens (a partner token from the legacy
``/oauth/v1/token`` works on it), same faults and rate limit, and its errors, including the
injected ones, come in its own format, while the legacy routes answer as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from _support.sandbox import api_error, bearer
from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api.base import Context, Route
from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.legacy import LegacyApi
from dmtools.sandbox.api.wire import json_response
from dmtools.sandbox.server import SandboxServer
from dmtools.sandbox.state import Paging, TokenRejected, VideoFilter, Visibility


class ToyV2:
    """``GET /v2/me/videos``: the key's first channel, a v2-like envelope and error body."""

    name = "toy-v2"
    routes = (Route("/v2/", "v2", prefix=True),)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def v2(self, request: Request) -> Response:
        if request.path != "/v2/me/videos":
            raise ApiError(404, "RESOURCE_NOT_FOUND", f"No route {request.path}.")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        principal = self.ctx.tokens.authenticate(token)
        total, videos = self.ctx.store.list_videos(
            VideoFilter(owner=principal.account_id), Visibility.ALL, Paging(1, 5)
        )
        items = [{"video_id": v["id"], "title": v["title"]} for v in videos]
        return json_response({"list": items, "pagination": {"total": total}})

    def render_error(self, exc: Exception) -> Response | None:
        if isinstance(exc, TokenRejected):
            exc = ApiError(401, "UNAUTHENTICATED", "The access token is not valid.")
        if not isinstance(exc, ApiError):
            return None
        body = {"error": {"code": exc.type, "message": exc.message, "correlation_id": "c1"}}
        return json_response(body, exc.status)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    srv = SandboxServer(videos=10, seed=4, dialects=(LegacyApi, ToyV2))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _partner_token(srv: SandboxServer) -> str:
    key = srv.store.credentials()["private_key"]
    response = requests.post(
        srv.url + "/oauth/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": key["client_id"],
            "client_secret": key["client_secret"],
            "scope": "read_videos",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _admin(srv: SandboxServer, route: str, body: Any) -> None:
    response = requests.post(
        f"{srv.url}/__sandbox__/{route}",
        json=body,
        headers={"X-Sandbox-Admin": srv.admin_token},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_a_legacy_partner_token_works_on_the_new_dialect(
    server: SandboxServer, http: requests.Session
) -> None:
    token = _partner_token(server)
    answer = http.get(server.url + "/v2/me/videos", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    channel = server.store.credentials()["private_key"]["channels"][0]
    legacy = http.get(server.url + f"/rest/user/{channel}/videos", headers=bearer(token)).json()
    assert answer.json()["pagination"]["total"] == legacy["total"] > 0


def test_each_dialect_answers_errors_in_its_own_format(
    server: SandboxServer, http: requests.Session
) -> None:
    bad = {"Authorization": "Bearer emu_at_" + uuid.uuid4().hex}
    v2 = http.get(server.url + "/v2/me/videos", headers=bad)
    assert v2.status_code == 401 and v2.json()["error"]["code"] == "UNAUTHENTICATED"
    legacy = http.get(server.url + "/me/videos", headers=bad)
    assert legacy.status_code == 401 and api_error(legacy)["type"] == "invalid_token"
    missing = http.get(server.url + "/v2/nothing")
    assert missing.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    too_large = http.post(server.url + "/v2/me/videos", data=b"x" * (2 << 20))
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "request_entity_too_large"


def test_faults_and_the_rate_limit_apply_to_the_new_dialect(
    server: SandboxServer, http: requests.Session
) -> None:
    _admin(server, "faults", {"rules": [{"kind": "status", "status": 503, "path": "^/v2/"}]})
    try:
        faulted = http.get(server.url + "/v2/me/videos")
        assert faulted.status_code == 503
        assert faulted.json()["error"]["code"] == "server_error"  # the dialect's own body
        assert http.get(server.url + "/channels").status_code == 200  # legacy untouched
        _admin(server, "faults", {"rules": []})
        _admin(server, "rate_limit", {"rate": 0.001, "burst": 1})
        http.get(server.url + "/v2/me/videos")
        limited = http.get(server.url + "/v2/me/videos")
        assert limited.status_code == 429 and "Retry-After" in limited.headers
        assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    finally:
        _admin(server, "rate_limit", {"rate": None})


def test_two_routes_for_one_path_are_refused_at_start() -> None:
    class Clash(ToyV2):
        routes = (Route("/oauth/token", "v2"),)

    with pytest.raises(ValueError, match="two routes for '/oauth/token'"):
        SandboxServer(videos=1, dialects=(LegacyApi, Clash))
