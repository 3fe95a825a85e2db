"""No secret is reachable from a raised dmtools error (issue: exception chains, S-14).

The canary scans elsewhere read what an error *shows* (str, repr, formatted tracebacks).
Here every failure path raises an error whose whole object graph is walked: ``__cause__``,
``__context__`` (suppressed or not), ``args``, ``__notes__``, every attribute, and whatever
those hold (a ``requests`` exception keeps the request with its ``Authorization`` header and
its form body; a ``JSONDecodeError`` keeps the document it failed on). Only the live stack
(``__traceback__``'s frames) is left out: it is the running program, not the error.

The secrets are the sandbox's own (API secrets, passwords, every token and code it issued)
plus wrong ones typed on purpose, in each of their spellings.
"""

from __future__ import annotations

import dataclasses
import socket
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _support.auth import consent
from _support.canary import WRONG_PASSWORD, WRONG_SECRET, issued_secrets, needles, spellings

import dmtools as dm
from dmtools.errors import DailymotionError
from dmtools.sandbox import Sandbox
from dmtools.secrets import Secret

_OPAQUE = (
    types.FrameType,
    types.TracebackType,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
)


def reachable(root: BaseException) -> Iterator[tuple[str, Any]]:
    """(path, object) for every object reachable from ``root`` except the live stack."""
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("error", root)]
    while stack:
        path, obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        yield path, obj
        if isinstance(obj, str | bytes | bytearray | int | float | complex | bool | type(None)):
            continue
        children: list[tuple[str, Any]] = []
        if isinstance(obj, BaseException):
            children += [
                (".__cause__", obj.__cause__),
                (".__context__", obj.__context__),
                (".args", obj.args),
                (".__notes__", getattr(obj, "__notes__", None)),
            ]
        if isinstance(obj, Secret):
            children.append((".reveal()", obj.reveal()))
        elif isinstance(obj, dict):
            children += [(f"[{k!r}]", v) for k, v in obj.items()]
            children += [(".key", k) for k in obj]
        elif isinstance(obj, list | tuple | set | frozenset):
            children += [(f"[{i}]", v) for i, v in enumerate(obj)]
        else:
            children += [(f".{k}", v) for k, v in getattr(obj, "__dict__", {}).items()]
            for klass in type(obj).__mro__:
                for name in getattr(klass, "__slots__", ()):
                    if name not in ("__weakref__", "__dict__") and hasattr(obj, name):
                        children.append((f".{name}", getattr(obj, name)))
        stack += [(path + step, child) for step, child in children]


def leaks(error: BaseException, found: dict[str, str]) -> list[str]:
    hits = []
    for path, obj in reachable(error):
        module = type(obj).__module__ or ""
        if module.split(".")[0] in ("requests", "urllib3", "oauthlib", "http", "json"):
            hits.append(f"{path}: a {module}.{type(obj).__name__} is kept")
        if isinstance(obj, bytes | bytearray):
            obj = bytes(obj).decode("utf-8", "replace")
        if isinstance(obj, str):
            hits += [f"{path}: holds {label}" for needle, label in found.items() if needle in obj]
    return hits


def caught(call: Callable[[], object]) -> DailymotionError:
    try:
        call()
    except DailymotionError as exc:
        return exc
    raise AssertionError("expected a dmtools error")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _public(sb: Sandbox, **extra: Any) -> dm.Client:
    c = sb.credentials
    options: dict[str, Any] = {
        "client_id": c.public_key.client_id,
        "client_secret": c.public_key.client_secret,
        "username": c.user.username,
        "password": c.user.password,
        "scope": ["manage_videos"],
        "endpoints": sb.endpoints,
    }
    options.update(extra)
    return dm.connect("password", **options)


def _failure_paths(sb: Sandbox) -> list[tuple[str, DailymotionError]]:
    c = sb.credentials
    errors: list[tuple[str, DailymotionError]] = []

    def expect(name: str, call: Callable[[], object]) -> None:
        errors.append((name, caught(call)))

    client = _public(sb)
    video = client.get("/me/videos", params={"fields": "id", "limit": 1})["list"][0]["id"]
    # API calls: transport failures and error answers, the bearer header on the wire
    for name, rule in (
        ("reset after commit", {"kind": "reset", "after_commit": True, "methods": ["POST"]}),
        ("reset before commit", {"kind": "reset", "methods": ["POST"]}),
        ("truncated answer", {"kind": "truncate", "methods": ["POST"]}),
        ("truncated read", {"kind": "truncate", "methods": ["GET"]}),
        ("500 html", {"kind": "status", "status": 500, "html": True, "methods": ["POST"]}),
        ("429 long", {"kind": "status", "status": 429, "retry_after": 3600}),
    ):
        sb.set_faults(seed=1, rules=[{**rule, "rate": 1.0, "path": "^/video/"}])
        if rule.get("methods") == ["GET"]:
            expect(name, lambda: client.get(f"/video/{video}", params={"fields": "id"}))
        else:
            expect(name, lambda: client.post(f"/video/{video}", data={"title": "During a fault"}))
    sb.clear_faults()
    slow = _public(sb, timeout=(2.0, 0.3), retries=0)
    sb.set_faults(seed=1, rules=[{"kind": "hold", "seconds": 2, "rate": 1.0, "path": "^/me"}])
    expect("read timeout", lambda: slow.me())
    sb.clear_faults()
    expect("404", lambda: client.get("/video/xnope000"))
    expect("400", lambda: client.post(f"/video/{video}", data={"language": "not-a-language"}))
    # the token endpoint: every grant's body holds a secret
    expect("wrong password", lambda: _public(sb, password=WRONG_PASSWORD))
    expect("wrong secret", lambda: _public(sb, client_secret=WRONG_SECRET))
    expect(
        "wrong refresh token",
        lambda: dm.connect(
            "refresh_token",
            client_id=c.public_key.client_id,
            client_secret=c.public_key.client_secret,
            refresh_token=WRONG_SECRET,
            endpoints=sb.endpoints,
        ),
    )
    for name, rule in (
        ("token endpoint reset", {"kind": "reset"}),
        ("token endpoint truncated", {"kind": "truncate", "bytes": 30}),
        ("token endpoint 502", {"kind": "status", "status": 502, "html": True}),
    ):
        sb.set_faults(seed=2, rules=[{**rule, "rate": 1.0, "path": "^/oauth/"}])
        expect(f"{name} (login)", lambda: _public(sb))
        expect(f"{name} (refresh)", client._manager.refresh)
    sb.clear_faults()
    dead = dataclasses.replace(sb.endpoints, token_url=f"http://127.0.0.1:{free_port()}/oauth")
    expect("token endpoint refused", lambda: _public(sb, endpoints=dead))
    # the authorization code grant
    flow = dm.AuthorizationCodeFlow(
        c.public_key.client_id,
        c.public_key.client_secret,
        redirect_uri=c.public_key.redirect_uri,
        scope=["manage_videos"],
        endpoints=sb.endpoints,
    )
    landed = consent(flow.authorization_url(), c.user.username, c.user.password)
    flow.complete(landed)
    expect("code used twice", lambda: flow.complete(landed))
    other = dm.AuthorizationCodeFlow(
        c.public_key.client_id,
        c.public_key.client_secret,
        redirect_uri=c.public_key.redirect_uri,
        scope=["manage_videos"],
        endpoints=sb.endpoints,
    )
    other.authorization_url()
    expect("state mismatch", lambda: other.complete(landed))
    # a session that ends while a call is made: the refresh inside the call fails
    client._manager._token = dataclasses.replace(
        client._manager.token, refresh_token=Secret(WRONG_SECRET)
    )
    sb.expire_tokens()
    expect("refresh inside a call", lambda: client.me())
    client.close()
    slow.close()
    return errors


def test_no_secret_is_reachable_from_any_raised_error() -> None:
    with Sandbox(videos=20, seed=9) as sb:
        errors = _failure_paths(sb)
        tokens, other = issued_secrets(sb)
        found = needles(sb, tokens | other)
    for value in (WRONG_PASSWORD, WRONG_SECRET):
        found.update(dict.fromkeys(spellings(value), value[:12]))
    assert len(errors) == 22
    kinds = {type(e).__name__ for _, e in errors}
    assert {"TransportError", "LoginRequired", "AuthenticationError", "ServerError"} <= kinds
    problems = [f"{name}: {hit}" for name, error in errors for hit in leaks(error, found)]
    assert problems == []


def _v2(sb: Sandbox, **extra: Any) -> dm.Client:
    key = sb.credentials.private_key
    options: dict[str, Any] = {
        "client_id": key.client_id,
        "client_secret": key.client_secret,
        "scope": ["account.read", "video.read", "video.manage"],
        "endpoints": sb.endpoints,
    }
    return dm.connect(api="v2", **{**options, **extra})


def _v2_failure_paths(sb: Sandbox) -> list[tuple[str, DailymotionError]]:
    """The failures of API v2 calls and logins (the private key's secret in every login)."""
    errors: list[tuple[str, DailymotionError]] = []
    client = _v2(sb)
    api = client.dialect
    profile = sb.credentials.private_key.profiles[0]
    first = client.send(api.first_page(f"/profiles/{profile}/videos", {}, size=1))
    video = api.read_page(first, api.first_page("/", {}, size=1)).items[0]["id"]
    edit = api.edit_call(video, {"title": "During a fault"}, None)
    for name, rule in (
        ("reset after commit", {"kind": "reset", "after_commit": True, "methods": ["PATCH"]}),
        ("reset before commit", {"kind": "reset", "methods": ["PATCH"]}),
        ("truncated answer", {"kind": "truncate", "methods": ["PATCH"]}),
        ("truncated read", {"kind": "truncate", "methods": ["GET"]}),
        ("500 html", {"kind": "status", "status": 500, "html": True, "methods": ["PATCH"]}),
    ):
        sb.set_faults(seed=1, rules=[{**rule, "rate": 1.0, "path": "^/v2/videos/"}])
        call = api.video_call(video, ["id"]) if rule.get("methods") == ["GET"] else edit
        errors.append((name, caught(lambda call=call: client.send(call))))
    long = {"kind": "status", "status": 429, "retry_after": 3600, "rate": 1.0}
    sb.set_faults(seed=1, rules=[{**long, "path": "^/v2/videos/"}])
    with _v2(sb) as held:  # its own client: a long Retry-After holds every later call
        errors.append(("429 long", caught(lambda: held.send(edit))))
    sb.clear_faults()
    errors.append(("404", caught(lambda: client.send(api.video_call("xnope000", ["id"])))))
    too_long = api.edit_call(video, {"title": "x" * 1000}, None)
    errors.append(("400", caught(lambda: client.send(too_long))))
    errors.append(("wrong secret", caught(lambda: _v2(sb, client_secret=WRONG_SECRET))))
    for name, rule in (
        ("token endpoint reset", {"kind": "reset"}),
        ("token endpoint truncated", {"kind": "truncate", "bytes": 30}),
        ("token endpoint 502", {"kind": "status", "status": 502, "html": True}),
    ):
        sb.set_faults(seed=2, rules=[{**rule, "rate": 1.0, "path": "^/oauth2/"}])
        errors.append((f"{name} (login)", caught(lambda: _v2(sb))))
        sb.expire_tokens()
        errors.append((f"{name} (renewal in a call)", caught(lambda: client.me())))
    sb.clear_faults()
    gone = f"http://127.0.0.1:{free_port()}/oauth2/v2/token"
    dead = dataclasses.replace(sb.endpoints, v2_token_url=gone)
    errors.append(("token endpoint refused", caught(lambda: _v2(sb, endpoints=dead))))
    client.close()
    return errors


def test_no_secret_is_reachable_from_any_raised_error_on_api_v2() -> None:
    with Sandbox(videos=20, seed=9) as sb:
        errors = _v2_failure_paths(sb)
        tokens, other = issued_secrets(sb)
        found = needles(sb, tokens | other)
    found.update(dict.fromkeys(spellings(WRONG_SECRET), WRONG_SECRET[:12]))
    assert len(errors) == 16 and len(tokens) >= 3
    kinds = {type(e).__name__ for _, e in errors}
    assert kinds >= {"TransportError", "AuthenticationError", "ServerError", "RateLimited"}
    assert kinds >= {"NotFound", "ValidationError"}, kinds
    problems = [f"{name}: {hit}" for name, error in errors for hit in leaks(error, found)]
    assert problems == []


def test_the_walk_finds_a_secret_kept_in_a_chained_exception() -> None:
    """The walker itself: a requests exception two links down, holding a header, is found."""
    import requests

    request = requests.Request(
        "GET", "http://127.0.0.1:1/", headers={"Authorization": "Bearer canary-123"}
    ).prepare()
    inner = requests.ConnectionError("refused", request=request)
    try:
        try:
            raise inner
        except requests.ConnectionError:
            raise ValueError("middle") from None
    except ValueError as middle:
        outer = DailymotionError("outer")
        outer.__context__ = middle
    hits = leaks(outer, {"canary-123": "canary"})
    assert any("canary" in h for h in hits) and any("requests" in h for h in hits)


@pytest.mark.parametrize("mode", ["chained", "attribute", "args"])
def test_the_walk_looks_through_attributes_and_args(mode: str) -> None:
    holder = {"token": ["x", ("canary-456",)]}
    error = DailymotionError("plain")
    if mode == "chained":
        error.__cause__ = KeyError(holder)
    elif mode == "attribute":
        error.extra = holder  # type: ignore[attr-defined]
    else:
        error.args = ("plain", holder)
    assert leaks(error, {"canary-456": "canary"})
