"""Faults, latency, the rate limit and the server's own refusals reach API v2 routes too,
with errors in the v2 body (and the legacy routes keep theirs)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from _support.sandbox import api_error, bearer, v2_error, v2_token

from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=10, seed=2, archive_videos=10) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _no_faults(sb: Sandbox) -> Iterator[None]:
    yield
    sb.clear_faults()


def test_the_rate_limit_answers_429_rate_limited_with_retry_after(
    sb: Sandbox, http: requests.Session
) -> None:
    token = bearer(v2_token(sb, "account.read"))
    sb.set_rate_limit(rate=0.01, burst=1)
    assert http.get(sb.url + "/v2/me", headers=token).status_code == 200
    limited = http.get(sb.url + "/v2/me", headers=token)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    v2_error(limited, "RATE_LIMITED")
    legacy = http.get(sb.url + "/channels")
    assert legacy.status_code == 429 and api_error(legacy)["type"] == "rate_limit_exceeded"
    token_call = http.post(sb.url + "/oauth2/v2/token", data={})
    assert token_call.status_code == 429
    assert [e["kind"] for e in sb.fault_log()[-3:]] == ["rate_limit"] * 3


def test_status_faults_come_in_the_v2_body(sb: Sandbox, http: requests.Session) -> None:
    token = bearer(v2_token(sb, "account.read"))
    sb.set_faults(rules=[{"kind": "status", "status": 503, "path": "^/v2/", "retry_after": 2}])
    faulted = http.get(sb.url + "/v2/me", headers=token)
    assert faulted.status_code == 503 and faulted.headers["Retry-After"] == "2"
    v2_error(faulted, "SERVICE_UNAVAILABLE")
    assert http.get(sb.url + "/channels").status_code == 200  # legacy routes untouched
    sb.set_faults(
        rules=[{"kind": "status", "status": 500, "path": "^/v2/", "type": "QUOTA_EXCEEDED"}]
    )
    v2_error(http.get(sb.url + "/v2/me", headers=token), "QUOTA_EXCEEDED")


def test_a_reset_after_commit_applies_the_patch(sb: Sandbox, http: requests.Session) -> None:
    token = bearer(v2_token(sb, "video.manage"))
    vid = sb.add_videos(1, owner=sb.credentials.private_key.profiles[0])[0]
    sb.set_faults(
        rules=[{"kind": "reset", "after_commit": True, "methods": ["PATCH"], "path": "^/v2/"}]
    )
    with pytest.raises(requests.ConnectionError):
        http.patch(sb.url + f"/v2/videos/{vid}", headers=token, json={"title": "Committed"})
    assert (sb.get_video(vid) or {})["title"] == "Committed"
    assert sb.fault_log()[-1]["kind"] == "reset" and sb.fault_log()[-1]["inner_status"] == 204


def test_latency_is_added_to_v2_calls(sb: Sandbox, http: requests.Session) -> None:
    token = bearer(v2_token(sb, "account.read"))
    sb.set_faults(latency=0.3)
    started = time.monotonic()
    assert http.get(sb.url + "/v2/me", headers=token).status_code == 200
    assert time.monotonic() - started >= 0.3  # a lower bound: the added wait happened


def test_server_refusals_come_in_the_v2_body(sb: Sandbox, http: requests.Session) -> None:
    token = bearer(v2_token(sb, "video.manage"))
    too_large = http.patch(sb.url + "/v2/videos/x1", headers=token, data=b"x" * (2 << 20))
    assert too_large.status_code == 413
    v2_error(too_large, "PAYLOAD_TOO_LARGE")
    port = int(sb.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"GET /v2/me HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 421")
    assert b'"code":"MISDIRECTED_REQUEST"' in answer


def test_the_busy_503_comes_in_the_format_of_each_api(sb: Sandbox) -> None:
    profile = sb.credentials.private_key.profiles[0]
    paths = [f"/v2/profiles/{profile}/videos", "/channels"] * 24
    sb.set_faults(latency=0.6)

    def get(path: str) -> tuple[str, requests.Response]:
        return path, requests.get(sb.url + path, timeout=10)

    with ThreadPoolExecutor(48) as pool:
        results = list(pool.map(get, paths))
    busy = [(path, r) for path, r in results if r.status_code == 503]
    assert busy and sum(r.status_code == 200 for _, r in results) >= 30
    assert any(path.startswith("/v2/") for path, _ in busy)  # 16 of 48 refused: some are v2
    for path, response in busy:
        assert response.headers["Retry-After"] == "1"
        if path.startswith("/v2/"):
            v2_error(response, "SERVICE_UNAVAILABLE")
        else:
            assert api_error(response)["type"] == "server_busy"
