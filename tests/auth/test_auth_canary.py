"""Canary scan (S-14): run every grant, refreshes, a 401 and the failure paths with all
loggers at DEBUG, then look for the secrets in logs, output, error texts (with traceback
locals), reprs and the token file."""

from __future__ import annotations

import base64
import io
import threading
import traceback
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from _support import TESTS as TESTS_DIR
from _support.auth import consent, query
from _support.canary import failure, spellings

from dmtools.auth import (
    AuthorizationCodeFlow,
    FileTokenStore,
    TokenEndpoint,
    TokenManager,
    create_token_manager,
)
from dmtools.auth.codeflow import new_state
from dmtools.sandbox import Sandbox
from dmtools.secrets import Secret

WRONG_PASSWORD = "WRONG-password-canary-7f3a"
WRONG_SECRET = "WRONG-client-secret-canary-91c2"
TESTS = str(TESTS_DIR)


def basic(client_id: str, secret: str) -> str:
    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def error_texts(exc: BaseException) -> list[str]:
    """str, repr, the formatted traceback, and the locals of every non-test frame."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    summary: traceback.TracebackException | None = traceback.TracebackException.from_exception(
        exc, capture_locals=True
    )
    while summary is not None:
        for frame in summary.stack:
            if not frame.filename.startswith(TESTS):
                texts.extend(
                    f"{frame.filename}:{name}={value}"
                    for name, value in (frame.locals or {}).items()
                )
        hidden = summary.__suppress_context__
        summary = summary.__cause__ or (None if hidden else summary.__context__)
    return texts


def browse(url: str) -> requests.Response:
    with requests.Session() as browser:
        browser.trust_env = False
        return browser.get(url, timeout=10)


def test_no_secret_leaks_into_logs_errors_reprs_output_or_token_files(
    debug_logs: io.StringIO, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seen_tokens: set[str] = set()  # allowed in the token file only
    seen_other: set[str] = {WRONG_PASSWORD, WRONG_SECRET}  # never allowed anywhere
    artefacts: list[str] = []
    errors: list[BaseException] = []

    def keep(manager: TokenManager) -> TokenManager:
        token = manager.token
        assert token is not None
        seen_tokens.add(token.access_token.reveal())
        if token.refresh_token is not None:
            seen_tokens.add(token.refresh_token.reveal())
        artefacts.extend([repr(manager), repr(token), str(token)])
        return manager

    with Sandbox(videos=1, pkce_required=True) as sb:
        c = sb.credentials
        pub, priv, user = c.public_key, c.private_key, c.user
        seen_other |= {pub.client_secret, priv.client_secret, user.password}
        store = FileTokenStore(tmp_path / "tokens.json")
        common = {
            "client_id": pub.client_id,
            "client_secret": pub.client_secret,
            "endpoints": sb.endpoints,
        }

        # every grant, refreshes and a 401
        manager = keep(
            create_token_manager(
                "password",
                username=user.username,
                password=user.password,
                scope=["manage_videos"],
                token_store=store,
                **common,
            )
        )
        manager.refresh()
        keep(manager)
        old = manager.access_token()
        sb.expire_tokens()
        manager.handle_unauthorized(old)
        keep(manager)
        keep(
            create_token_manager(
                "client_credentials",
                client_id=priv.client_id,
                client_secret=priv.client_secret,
                scope=["read_videos"],
                endpoints=sb.endpoints,
                token_store=store,
            )
        )
        assert manager.token is not None and manager.token.refresh_token is not None
        refresh = manager.token.refresh_token.reveal()
        keep(
            create_token_manager(
                "refresh_token", refresh_token=refresh, token_store=store, **common
            )
        )

        flow = AuthorizationCodeFlow(
            pub.client_id, pub.client_secret, redirect_uri=pub.redirect_uri, endpoints=sb.endpoints
        )
        url = flow.authorization_url()
        assert flow._pending is not None
        seen_other |= {query(url)["state"], flow._pending.verifier.reveal()}
        redirected = consent(url, user.username, user.password)
        seen_other.add(query(redirected)["code"])
        keep(
            create_token_manager(
                "authorization_code",
                code_flow=flow,
                token_store=store,
                client_id=pub.client_id,
                client_secret=pub.client_secret,
            )
        )
        artefacts.append(repr(flow))

        done = threading.Event()
        login = flow.start_local_server(timeout=20, callback=lambda token, error: done.set())
        seen_other.add(query(login.url)["state"])
        local_redirect = consent(login.url, user.username, user.password)
        seen_other.add(query(local_redirect)["code"])
        artefacts.append(browse(local_redirect).text)
        assert done.wait(10)
        seen_tokens.add(login.wait(1).access_token.reveal())
        artefacts.append(repr(login))

        # failure paths
        errors.append(
            failure(
                lambda: create_token_manager(
                    "password", username=user.username, password=WRONG_PASSWORD, **common
                )
            )
        )
        errors.append(
            failure(
                lambda: create_token_manager(
                    "password",
                    client_id=pub.client_id,
                    client_secret=WRONG_SECRET,
                    username=user.username,
                    password=user.password,
                    endpoints=sb.endpoints,
                )
            )
        )
        errors.append(
            failure(
                lambda: create_token_manager(
                    "client_credentials",
                    client_id=pub.client_id,
                    client_secret=pub.client_secret,
                    endpoints=sb.endpoints,
                )
            )
        )
        bad_state = flow.authorization_url()
        redirected = consent(bad_state, user.username, user.password)
        seen_other |= {query(bad_state)["state"], query(redirected)["code"]}
        tampered = {**query(redirected), "state": new_state()}
        errors.append(
            failure(lambda: flow.complete(redirected.split("?")[0] + "?" + urlencode(tampered)))
        )
        endpoint = TokenEndpoint(
            client_id=pub.client_id,
            client_secret=Secret(pub.client_secret),
            endpoints=sb.endpoints,
            partner=False,
        )
        errors.append(
            failure(
                lambda: endpoint.request(
                    "authorization_code",
                    code=Secret(query(local_redirect)["code"]),
                    redirect_uri=login.redirect_uri,
                )
            )
        )
        denied = flow.authorization_url()
        seen_other.add(query(denied)["state"])
        errors.append(
            failure(
                lambda: flow.complete(consent(denied, user.username, user.password, action="deny"))
            )
        )
        sb.set_faults(
            seed=1,
            rules=[
                {"kind": "status", "status": 500, "html": True, "rate": 1.0, "path": "^/oauth/"}
            ],
        )
        errors.append(failure(manager.refresh))
        sb.set_faults(seed=1, rules=[{"kind": "reset", "rate": 1.0, "path": "^/oauth/"}])
        errors.append(failure(manager.refresh))
        sb.clear_faults()
        browse_logout = requests.Session()
        browse_logout.trust_env = False
        browse_logout.get(
            sb.url + "/logout",
            timeout=10,
            headers={"Authorization": f"Bearer {manager.access_token()}"},
        )
        browse_logout.close()
        errors.append(failure(lambda: manager.handle_unauthorized(manager.access_token())))
        artefacts.extend([repr(manager), repr(store)])

    assert len(errors) == 9
    for error in errors:
        artefacts.extend(error_texts(error))
    output = capsys.readouterr()
    logs = debug_logs.getvalue()
    assert "POST /oauth/token" in logs  # urllib3 did log at DEBUG
    artefacts.extend([logs, output.out, output.err])
    token_file = (tmp_path / "tokens.json").read_text()

    needles = {s for value in seen_tokens | seen_other for s in spellings(value)}
    needles |= {basic(pub.client_id, pub.client_secret), basic(priv.client_id, priv.client_secret)}
    hits = sorted(
        {
            f"{needle[:10]}... in: {text[:70]!r}"
            for needle in needles
            for text in artefacts
            if needle in text
        }
    )
    assert hits == []
    file_needles = {s for value in seen_other for s in spellings(value)}
    assert [n[:12] for n in file_needles if n in token_file] == []
    assert any(t in token_file for t in seen_tokens)  # the file does hold the session


# A function outside tests/ that holds a secret as a plain local when it fails.
_leaky_function = eval(compile("lambda secret: 1 / 0", "/elsewhere/leaky.py", "eval"))


def test_the_scan_finds_a_plain_secret_local_outside_the_tests() -> None:
    leak = failure(lambda: _leaky_function(WRONG_PASSWORD))
    assert any(WRONG_PASSWORD in text for text in error_texts(leak))
