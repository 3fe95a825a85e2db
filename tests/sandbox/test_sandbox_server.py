"""Sandbox server: lifecycle, binding, host allowlist, robustness, limits, persistence,
process mode, the admin API and concurrent writes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests
from _support import ROOT
from _support.sandbox import api_error, bearer, password_token, stop_with_an_idle_connection

from dmtools.sandbox import Sandbox
from dmtools.sandbox.server import MAX_HANDLERS, SOCKET_TIMEOUT


def _raw(sb: Sandbox, payload: bytes, *, read_until_close: bool = False) -> bytes:
    port = int(sb.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        if read_until_close:
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)
        return sock.recv(65536)


def test_start_stop_without_leaks() -> None:
    process = psutil.Process()
    Sandbox(videos=20).start().stop()  # warm imports
    threads, fds = threading.active_count(), process.num_fds()
    for _ in range(15):
        # an idle keep-alive connection is closed by the stop, not waited for
        stop_with_an_idle_connection(Sandbox(videos=20).start())
    assert threading.active_count() == threads
    assert process.num_fds() <= fds + 2


def test_binds_loopback_ephemeral_port(sb: Sandbox) -> None:
    assert sb.url.startswith("http://127.0.0.1:")
    assert int(sb.url.rsplit(":", 1)[1]) > 0
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(host="0.0.0.0")


def test_endpoints_point_at_the_sandbox(sb: Sandbox) -> None:
    endpoints = sb.endpoints
    assert endpoints.api_url == sb.url and endpoints.partner_url == sb.url + "/rest"
    assert endpoints.partner_token_url == sb.url + "/oauth/v1/token"


def test_host_header_allowlist(sb: Sandbox, http: requests.Session) -> None:
    port = sb.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert http.get(sb.url + "/channels", headers={"Host": host}).status_code == 200
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1:1"):
        response = http.get(sb.url + "/channels", headers={"Host": host})
        assert response.status_code == 421


def test_no_cors_headers(sb: Sandbox, http: requests.Session) -> None:
    response = http.get(sb.url + "/videos", headers={"Origin": "http://evil.example"})
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    preflight = http.options(sb.url + "/videos", headers={"Origin": "http://evil.example"})
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]


def test_keep_alive_serves_several_requests_on_one_connection(sb: Sandbox) -> None:
    one = (
        b"GET /echo?message=a HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n"
        % sb.url.rsplit(":", 1)[1].encode()
    )
    last = one.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    answer = _raw(sb, one + one + last, read_until_close=True)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.count(b'{"message":"a"}') == 3


def test_malformed_bodies_get_api_errors(sb: Sandbox, http: requests.Session) -> None:
    token = bearer(password_token(sb))
    xid = http.get(sb.url + "/me/videos", headers=token).json()["list"][0]["id"]
    bad_json = http.post(
        sb.url + f"/video/{xid}",
        data=b"{oops",
        headers={**token, "Content-Type": "application/json"},
    )
    assert api_error(bad_json)["type"] == "invalid_parameter"
    not_object = http.post(sb.url + f"/video/{xid}", json=[1, 2], headers=token)
    assert not_object.status_code == 400
    binary = http.post(
        sb.url + f"/video/{xid}",
        data=b"\xff\xfe\x00=\x80",
        headers={**token, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert binary.status_code in (200, 400) and binary.json()  # undecodable pairs are dropped
    broken = _raw(sb, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    assert broken.startswith(b"HTTP/1.1 400") or broken.startswith(b"HTTP/1.0 400")
    garbage = _raw(sb, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
    assert b"400" in garbage.split(b"\r\n", 1)[0] or garbage == b""
    assert http.get(sb.url + "/echo", params={"message": "still up"}).status_code == 200


def test_body_over_one_mib_is_413(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(sb.url + "/echo", data={"message": "m" * (1 << 20)})
    assert response.status_code == 413
    assert api_error(response)["type"] == "request_entity_too_large"
    response = http.post(sb.url + "/oauth/token", data=b"x" * ((1 << 20) + 1))
    assert response.status_code == 413
    assert http.get(sb.url + "/echo", params={"message": "ok"}).status_code == 200


def test_idle_connections_do_not_block_other_clients(sb: Sandbox, http: requests.Session) -> None:
    port = int(sb.url.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    try:
        idle[0].sendall(b"GET /echo?message=x HTTP/1.1\r\n")  # a half-sent request
        for _ in range(100):  # each answered within half the time the idle ones may stay
            response = http.get(sb.url + "/channels", timeout=SOCKET_TIMEOUT / 2)
            assert response.status_code == 200
    finally:
        for sock in idle:
            sock.close()


def test_excess_concurrent_requests_get_a_fast_503() -> None:
    latency = 10.0  # every handled request takes this long; MAX_HANDLERS are handled at once
    start = threading.Barrier(48)
    with Sandbox(videos=5) as sb:
        sb.set_faults(latency=latency)

        def get(_: int) -> tuple[int, float]:
            start.wait(30)
            status = requests.get(sb.url + "/channels", timeout=4 * latency).status_code
            return status, time.monotonic()

        began = time.monotonic()
        with ThreadPoolExecutor(48) as pool:
            results = list(pool.map(get, range(48)))
        busy = [done for status, done in results if status == 503]
        handled = [done for status, done in results if status == 200]
        # the excess is answered at once: every 503 before the first handled request ends
        assert busy and handled and max(busy) < min(handled)
        assert min(handled) - began >= latency
        assert len(handled) >= MAX_HANDLERS - 2 and len(busy) + len(handled) == 48
        sb.clear_faults()


def test_state_survives_a_restart_with_a_db_file(tmp_path: Path, http: requests.Session) -> None:
    db = tmp_path / "sandbox.sqlite"
    with Sandbox(videos=30, db_path=db) as sb:
        creds = sb.credentials.to_json()
        token = password_token(sb)
        xid = http.get(sb.url + "/me/videos", headers=bearer(token)).json()["list"][0]["id"]
        assert (
            http.post(
                sb.url + f"/video/{xid}", headers=bearer(token), data={"title": "Persisted"}
            ).status_code
            == 200
        )
        gone = http.get(sb.url + "/me/videos", headers=bearer(token)).json()["list"][1]["id"]
        assert http.delete(sb.url + f"/video/{gone}", headers=bearer(token)).status_code == 200
    with Sandbox(videos=30, db_path=db) as sb:
        assert {k: v for k, v in sb.credentials.to_json().items() if k != "url"} == {
            k: v for k, v in creds.items() if k != "url"
        }
        assert (sb.get_video(xid) or {})["title"] == "Persisted"
        assert sb.get_video(gone) is None
        assert http.get(sb.url + "/me", headers=bearer(token)).status_code == 200


def test_process_mode(tmp_path: Path, http: requests.Session) -> None:
    with Sandbox(videos=40, mode="process", token_lifetime=77) as sb:
        assert sb.url.startswith("http://127.0.0.1:")
        token = password_token(sb)
        assert token["expires_in"] == 77
        xid = http.get(sb.url + "/me/videos", headers=bearer(token)).json()["list"][0]["id"]
        http.post(sb.url + f"/video/{xid}", headers=bearer(token), data={"title": "In a process"})
        assert sb.commits()[-1]["fields"] == {"title": "In a process"}
        assert (sb.get_video(xid) or {})["title"] == "In a process"
        proc = sb._proc
        assert proc is not None and proc.poll() is None
    assert proc.poll() is not None
    assert proc.returncode == 0


def test_cli_prints_one_json_line() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from dmtools.cli import main; main()",
            "sandbox",
            "--videos",
            "5",
            "--json",
        ],
        stdout=subprocess.PIPE,
        cwd=str(ROOT),
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert set(ready) == {"url", "public_key", "private_key", "user", "admin_token"}
        assert set(ready["private_key"]) == {"client_id", "client_secret", "channels", "profiles"}
        assert ready["private_key"]["profiles"] == ready["private_key"]["channels"]
        assert len(ready["private_key"]["profiles"]) >= 3
        assert ready["user"]["username"] == "demo"
        assert requests.get(ready["url"] + "/channels", timeout=5).status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
        if proc.stdout is not None:
            proc.stdout.close()


def test_credentials_are_deterministic_for_a_seed() -> None:
    with (
        Sandbox(videos=10, seed=3) as a,
        Sandbox(videos=10, seed=3) as b,
        Sandbox(videos=10, seed=4) as c,
    ):
        assert {k: v for k, v in a.credentials.to_json().items() if k != "url"} == {
            k: v for k, v in b.credentials.to_json().items() if k != "url"
        }
        assert a.credentials.public_key.client_id != c.credentials.public_key.client_id
        ids_a = [v["id"] for v in requests.get(a.url + "/videos", timeout=5).json()["list"]]
        ids_b = [v["id"] for v in requests.get(b.url + "/videos", timeout=5).json()["list"]]
        assert ids_a == ids_b
        assert "client_secret" not in repr(a.credentials)


def test_admin_api_needs_its_token(sb: Sandbox, http: requests.Session) -> None:
    assert http.get(sb.url + "/__sandbox__/commits").status_code == 403
    assert (
        http.get(sb.url + "/__sandbox__/commits", headers={"X-Sandbox-Admin": "guess"}).status_code
        == 403
    )
    assert http.get(
        sb.url + "/__sandbox__/health", headers={"X-Sandbox-Admin": sb.admin_token}
    ).json() == {"ok": True}


def test_out_of_band_changes_are_not_client_commits(sb: Sandbox, http: requests.Session) -> None:
    before = len(sb.commits())
    [new] = sb.add_videos(1)
    assert (sb.get_video(new) or {})["owner"] == sb.credentials.user.id
    edited = sb.edit_video(new, title="Changed elsewhere", views_total=5)
    assert edited["title"] == "Changed elsewhere" and edited["version"] == 2
    sb.delete_video(new)
    assert sb.get_video(new) is None
    assert len(sb.commits()) == before
    with pytest.raises(LookupError):
        sb.delete_video(new)
    with pytest.raises(RuntimeError):
        sb.edit_video(sb.credentials.user.id, no_such_column=1)


def test_request_log_keeps_query_keys_not_values(sb: Sandbox, http: requests.Session) -> None:
    token = password_token(sb)
    http.get(sb.url + "/me", params={"access_token": token["access_token"], "fields": "id"})
    entry = sb.request_log()[-1]
    assert entry["path"] == "/me" and entry["status"] == 200
    assert entry["query_keys"] == ["access_token", "fields"]
    assert entry["client_id"] == sb.credentials.public_key.client_id
    assert token["access_token"] not in json.dumps(sb.request_log())


def test_faults_are_wired_in(sb: Sandbox, http: requests.Session) -> None:
    sb.set_faults(
        seed=1, rules=[{"kind": "status", "status": 503, "path": "^/echo$", "retry_after": 2}]
    )
    try:
        response = http.get(sb.url + "/echo", params={"message": "x"})
        assert response.status_code == 503 and response.headers["Retry-After"] == "2"
        assert sb.fault_log()[-1]["path"] == "/echo"
        assert sb.request_log()[-1]["status"] == 503
        assert http.get(sb.url + "/channels").status_code == 200
    finally:
        sb.clear_faults()
    assert http.get(sb.url + "/echo", params={"message": "x"}).status_code == 200


def test_concurrent_writes_lose_nothing(tmp_path: Path) -> None:
    with Sandbox(videos=40, db_path=tmp_path / "c.sqlite") as sb:
        token = bearer(password_token(sb))
        ids = [
            v["id"]
            for v in requests.get(
                sb.url + "/me/videos", headers=token, timeout=10, params={"limit": 40}
            ).json()["list"]
        ]
        start = {xid: (sb.get_video(xid) or {})["version"] for xid in ids}
        errors: list[int] = []

        def work(worker: int) -> None:
            with requests.Session() as session:
                for i in range(60):
                    xid = ids[(worker * 7 + i) % len(ids)]
                    if i % 3:
                        response = session.post(
                            sb.url + f"/video/{xid}",
                            headers=token,
                            data={"title": f"w{worker} #{i}"},
                            timeout=10,
                        )
                    else:
                        response = session.get(sb.url + f"/video/{xid}", headers=token, timeout=10)
                    if response.status_code != 200:
                        errors.append(response.status_code)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        edits = [c for c in sb.commits() if c["kind"] == "edit"]
        assert len(edits) == 8 * 40
        bumped = sum((sb.get_video(x) or {})["version"] - start[x] for x in ids)
        assert bumped == len(edits)


def test_process_mode_child_exits_when_its_parent_goes_away() -> None:
    sb = Sandbox(videos=5, mode="process").start()
    proc = sb._proc
    assert proc is not None and proc.stdin is not None
    proc.stdin.close()  # what the OS does when the parent dies
    assert proc.wait(10) == 0
    sb.stop()


def test_added_videos_are_public_and_listed_first(sb: Sandbox, http: requests.Session) -> None:
    ids = sb.add_videos(5)
    for xid in ids:
        assert http.get(sb.url + f"/video/{xid}").status_code == 200
    newest = http.get(sb.url + "/user/demo/videos", params={"limit": 5}).json()["list"]
    assert {v["id"] for v in newest} == set(ids)
