"""Each grant against the sandbox over real HTTP: happy paths, errors, request shape
(S-05, S-06, S-07, S-08, S-11)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests
from _support.auth import Recorder, last_seq, token_posts

from dmtools.auth import (
    ScopeChangedWarning,
    TokenEndpoint,
    create_token_manager,
)
from dmtools.config import Endpoints
from dmtools.errors import (
    AuthenticationError,
    InputError,
    InsecureTransportError,
    LoginRequired,
    ServerError,
    TransportError,
)
from dmtools.sandbox import Sandbox
from dmtools.secrets import Secret

REFRESH_KEYS = {"grant_type", "refresh_token", "client_id", "client_secret", "scope"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=5) as sandbox:
        yield sandbox


def public(sb: Sandbox, **kwargs: Any) -> dict[str, Any]:
    key = sb.credentials.public_key
    return {
        "client_id": key.client_id,
        "client_secret": key.client_secret,
        "endpoints": sb.endpoints,
        **kwargs,
    }


def private(sb: Sandbox, **kwargs: Any) -> dict[str, Any]:
    key = sb.credentials.private_key
    return {
        "client_id": key.client_id,
        "client_secret": key.client_secret,
        "endpoints": sb.endpoints,
        **kwargs,
    }


def user(sb: Sandbox) -> dict[str, str]:
    return {"username": sb.credentials.user.username, "password": sb.credentials.user.password}


def api_status(sb: Sandbox, path: str, token: str) -> int:
    with requests.Session() as session:
        session.trust_env = False
        return session.get(
            sb.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).status_code


def test_client_credentials_gets_a_partner_token_with_the_body_only(sb: Sandbox) -> None:
    recorder = Recorder()
    manager = create_token_manager(
        "client_credentials", scope=["read_videos"], session_factory=recorder, **private(sb)
    )
    assert manager.is_partner and manager.grant == "client_credentials"
    assert manager.scopes == ("read_videos",)
    assert manager.uid == sb.credentials.private_key.channels[0]
    assert manager.token is not None and manager.token.refresh_token is None
    [sent] = recorder.sent
    assert sent.method == "POST" and sent.url == sb.endpoints.partner_token_url
    assert sent.allow_redirects is False
    assert "Authorization" not in sent.headers
    assert set(sent.form) == {"grant_type", "client_id", "client_secret", "scope"}
    channel = sb.credentials.private_key.channels[0]
    assert api_status(sb, f"/rest/user/{channel}/videos", manager.access_token()) == 200


def test_password_grant_gets_a_user_token_with_a_refresh_token(sb: Sandbox) -> None:
    recorder = Recorder()
    manager = create_token_manager(
        "password", scope="manage_videos", session_factory=recorder, **user(sb), **public(sb)
    )
    assert not manager.is_partner and manager.grant == "password"
    assert manager.uid == sb.credentials.user.id
    assert manager.scopes == ("manage_videos",)
    assert manager.token is not None and manager.token.refresh_token is not None
    [sent] = recorder.sent
    assert sent.url == sb.endpoints.token_url and "Authorization" not in sent.headers
    assert set(sent.form) == {
        "grant_type",
        "client_id",
        "client_secret",
        "username",
        "password",
        "scope",
    }
    assert api_status(sb, "/me", manager.access_token()) == 200


def test_refresh_token_grant_continues_a_session_with_a_clean_body(sb: Sandbox) -> None:
    first = create_token_manager("password", **user(sb), **public(sb))
    assert first.token is not None and first.token.refresh_token is not None
    recorder = Recorder()
    refresh = first.token.refresh_token.reveal()
    manager = create_token_manager(
        "refresh_token", refresh_token=refresh, session_factory=recorder, **public(sb)
    )
    assert manager.uid == sb.credentials.user.id
    assert manager.access_token() != first.access_token()
    [sent] = recorder.sent
    assert sent.form["grant_type"] == "refresh_token" and set(sent.form) <= REFRESH_KEYS
    assert "Authorization" not in sent.headers


def test_wrong_password_asks_to_check_the_credentials(sb: Sandbox) -> None:
    with pytest.raises(LoginRequired, match="check the username and password") as caught:
        create_token_manager(
            "password",
            username=sb.credentials.user.username,
            password="not-the-password",
            **public(sb),
        )
    assert caught.value.type == "invalid_grant"


def test_wrong_client_secret_is_an_authentication_error_not_a_login_request(sb: Sandbox) -> None:
    with pytest.raises(AuthenticationError) as caught:
        create_token_manager(
            "client_credentials",
            client_id=sb.credentials.private_key.client_id,
            client_secret="wrong-secret",
            endpoints=sb.endpoints,
        )
    assert caught.value.type == "invalid_client" and caught.value.status == 401
    assert not isinstance(caught.value, LoginRequired)


def test_public_key_with_client_credentials_names_the_right_grants(sb: Sandbox) -> None:
    with pytest.raises(AuthenticationError, match="use grant 'password' or 'authorization_code'"):
        create_token_manager("client_credentials", **public(sb))


def test_private_key_with_password_names_client_credentials(sb: Sandbox) -> None:
    with pytest.raises(AuthenticationError, match="use grant 'client_credentials'"):
        create_token_manager("password", **user(sb), **private(sb))


@pytest.mark.parametrize(
    "grant, extra, message",
    [
        ("client_credentials", {"username": "me", "password": "pw"}, "takes no username"),
        ("implicit", {}, "unknown grant"),
        ("password", {"password": "pw"}, "needs username"),
        ("password", {"username": "me"}, "needs password"),
        ("refresh_token", {}, "needs refresh_token"),
    ],
)
def test_contradictory_arguments_fail_before_any_request(
    sb: Sandbox, grant: str, extra: dict[str, str], message: str
) -> None:
    mark = last_seq(sb)
    with pytest.raises((InputError, LoginRequired), match=message):
        create_token_manager(grant, **extra, **public(sb))
    assert token_posts(sb.request_log(since=mark)) == []


def test_an_unknown_scope_is_reported_by_the_token_endpoint(sb: Sandbox) -> None:
    with pytest.raises(AuthenticationError, match="scope") as caught:
        create_token_manager("password", scope=["no_such_scope"], **user(sb), **public(sb))
    assert caught.value.type == "invalid_scope"


def test_an_html_500_from_the_token_endpoint_is_a_server_error(sb: Sandbox) -> None:
    sb.set_faults(
        seed=1,
        rules=[{"kind": "status", "status": 500, "html": True, "rate": 1.0, "path": "^/oauth/"}],
    )
    try:
        with pytest.raises(ServerError, match="HTML"):
            create_token_manager("password", **user(sb), **public(sb))
    finally:
        sb.clear_faults()


def test_a_reset_connection_is_retried_once_for_a_repeatable_grant(sb: Sandbox) -> None:
    sb.set_faults(seed=1, rules=[{"kind": "reset", "rate": 1.0, "path": "^/oauth/v1/token"}])
    before = len(sb.fault_log())
    try:
        with pytest.raises(TransportError):
            create_token_manager("client_credentials", **private(sb))
    finally:
        sb.clear_faults()
    # The fault log is written before each reset (the request log only once the server is
    # done with the connection, which may be after the client has given up).
    resets = [f for f in sb.fault_log()[before:] if f["kind"] == "reset"]
    assert [f["path"] for f in resets] == ["/oauth/v1/token"] * 2  # the first try, one retry


@pytest.mark.parametrize("status, tries", [(503, 2), (500, 1)])
def test_only_an_unavailable_endpoint_is_retried(sb: Sandbox, status: int, tries: int) -> None:
    sb.set_faults(
        seed=1, rules=[{"kind": "status", "status": status, "rate": 1.0, "path": "^/oauth/"}]
    )
    mark = last_seq(sb)
    try:
        with pytest.raises(ServerError):
            create_token_manager("client_credentials", **private(sb))
    finally:
        sb.clear_faults()
    assert len(token_posts(sb.request_log(since=mark))) == tries


def test_the_password_is_not_reachable_from_the_session(sb: Sandbox) -> None:
    c = sb.credentials
    manager = create_token_manager(
        "password", username=c.user.username, password=c.user.password, **public(sb)
    )
    found = _reachable_strings(manager)
    assert c.user.password not in found
    assert manager.access_token() in found  # the scan does see what the session holds


def _reachable_strings(root: object) -> set[str]:
    """Every str reachable from ``root`` through instances, containers and Secrets."""
    import gc
    import types

    skip = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)
    seen: set[int] = set()
    found: set[str] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            found.add(obj)
        elif isinstance(obj, Secret):
            found.add(obj.reveal())
        else:
            todo.extend(gc.get_referents(obj))
    return found


def test_no_secret_ever_travels_in_a_url(sb: Sandbox) -> None:
    mark = last_seq(sb)
    manager = create_token_manager("password", **user(sb), **public(sb))
    manager.refresh()
    create_token_manager("client_credentials", **private(sb))
    entries = sb.request_log(since=mark)
    assert len(token_posts(entries)) == 3 and all(e["method"] == "POST" for e in entries)
    assert all(e["query_keys"] == [] for e in entries)


def test_calls_leave_the_environment_unchanged(sb: Sandbox) -> None:
    before = dict(os.environ)
    manager = create_token_manager("password", **user(sb), **public(sb))
    manager.refresh()
    create_token_manager("client_credentials", **private(sb))
    with pytest.raises(AuthenticationError):
        create_token_manager("client_credentials", **public(sb))
    assert dict(os.environ) == before
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_plain_http_to_another_host_is_refused_before_any_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connects: list[Any] = []
    original = socket.socket.connect
    monkeypatch.setattr(
        socket.socket,
        "connect",
        lambda self, address: connects.append(address) or original(self, address),
    )
    endpoints = Endpoints.dailymotion()
    object.__setattr__(endpoints, "token_url", "http://api.dailymotion.com/oauth/token")
    with pytest.raises(InsecureTransportError):
        create_token_manager(
            "password",
            client_id="k",
            client_secret="s",
            username="u",
            password="p",
            endpoints=endpoints,
        )
    assert connects == []


class _Redirecting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:
        _Redirecting.hits.append(self.path)
        self.send_response(307)
        self.send_header("Location", "/trap")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_redirect_from_the_token_endpoint_is_not_followed() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoints = Endpoints.sandbox(f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(AuthenticationError, match="redirect"):
            create_token_manager(
                "password",
                client_id="k",
                client_secret="s",
                username="u",
                password="p",
                endpoints=endpoints,
            )
    finally:
        server.shutdown()
        server.server_close()
    assert _Redirecting.hits == ["/oauth/token"]


def _endpoint() -> TokenEndpoint:
    return TokenEndpoint(
        client_id="k",
        client_secret=Secret("s"),
        endpoints=Endpoints.sandbox("http://127.0.0.1:9"),
        partner=False,
    )


def _response(status: int, body: str, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = content_type
    return response


# The sandbox answers token errors with 400/401; these shapes it cannot produce.
def test_an_error_delivered_with_http_200_is_still_an_error() -> None:
    endpoint = _endpoint()
    with pytest.raises(LoginRequired, match="Invalid refresh token"):
        endpoint._raise_for_error(
            "refresh_token",
            _response(
                200, '{"error": "invalid_grant", "error_description": "Invalid refresh token."}'
            ),
        )


def test_a_200_without_a_token_is_an_authentication_error() -> None:
    endpoint = _endpoint()
    client = endpoint._oauth_client("password")
    with pytest.raises(AuthenticationError, match="without a usable token"):
        endpoint._parse(
            client, _response(200, "<html>maintenance</html>", "text/html"), 0.0, (), "password"
        )


def test_a_changed_scope_is_a_warning_not_a_traceback() -> None:
    endpoint = _endpoint()
    client = endpoint._oauth_client("password")
    body = '{"access_token": "at-1", "token_type": "Bearer", "expires_in": 60, "scope": "read"}'
    with pytest.warns(ScopeChangedWarning, match="granted scope 'read'"):
        token = endpoint._parse(client, _response(200, body), 100.0, ("read", "write"), "password")
    assert token.scope == ("read",) and token.expires_at == 160.0
