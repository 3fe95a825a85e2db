"""The one-shot callback listener on 127.0.0.1 (S-03)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import psutil
import pytest
import requests

from dmtools.auth import LoginCancelled, LoginTimeout, LoopbackListener


def serve_in_thread(
    listener: LoopbackListener, on_callback: Callable[[str], tuple[int, str]], timeout: float = 10.0
) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            listener.serve(on_callback, timeout=timeout)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def get(url: str, **kwargs: object) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]


def test_listener_binds_loopback_on_an_ephemeral_port() -> None:
    with LoopbackListener() as listener:
        assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/callback"
        assert listener.port > 0
        assert listener._server.server_address[0] == "127.0.0.1"


def test_an_occupied_port_fails_at_once() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            LoopbackListener(port=taken.getsockname()[1])


def test_one_callback_is_served_with_a_plain_page_then_the_port_closes() -> None:
    seen: list[str] = []

    def on_callback(url: str) -> tuple[int, str]:
        seen.append(url)
        return 200, "Logged in <for real>"

    listener = LoopbackListener()
    thread, errors = serve_in_thread(listener, on_callback)
    assert get(f"http://127.0.0.1:{listener.port}/favicon.ico").status_code == 404
    response = get(listener.redirect_uri + "?code=c1&state=s1")
    thread.join(5)
    assert not thread.is_alive() and errors == []
    assert seen == [listener.redirect_uri + "?code=c1&state=s1"]
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "&lt;for real&gt;" in response.text
    assert "src=" not in response.text and "http" not in response.text.lower()
    with pytest.raises(requests.ConnectionError):
        get(listener.redirect_uri)


def test_a_foreign_host_header_is_refused_and_does_not_end_the_login() -> None:
    listener = LoopbackListener()
    thread, _ = serve_in_thread(listener, lambda url: (200, "ok"))
    rebinding = get(listener.redirect_uri + "?code=c&state=s", headers={"Host": "evil.test"})
    assert rebinding.status_code == 400
    assert get(listener.redirect_uri + "?code=c&state=s").status_code == 200
    thread.join(5)
    assert not thread.is_alive()


def test_no_callback_in_time_raises_a_typed_timeout_and_closes() -> None:
    listener = LoopbackListener()
    with pytest.raises(LoginTimeout, match="within 0.3 s"):
        listener.serve(lambda url: (200, "ok"), timeout=0.3, poll=0.05)
    with pytest.raises(requests.ConnectionError):
        get(listener.redirect_uri)


def test_cancel_stops_the_listener() -> None:
    listener = LoopbackListener()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(LoginCancelled):
        listener.serve(lambda url: (200, "ok"), timeout=10, cancel=cancel)


def test_a_hundred_logins_leave_no_socket_open() -> None:
    process = psutil.Process()
    with requests.Session() as session:
        session.trust_env = False
        session.get  # noqa: B018 - make sure the pool exists before counting
        before = process.num_fds()
        for _ in range(100):
            listener = LoopbackListener()
            thread, _ = serve_in_thread(listener, lambda url: (200, "ok"))
            session.get(
                listener.redirect_uri + "?code=c&state=s",
                timeout=5,
                headers={"Connection": "close"},
            )
            thread.join(5)
        after = process.num_fds()
    assert after <= before
