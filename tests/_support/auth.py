"""Helpers shared by the auth tests: a user on the sandbox consent page, a recording
session factory and a settable clock."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests


def consent(authorization_url: str, username: str, password: str, action: str = "allow") -> str:
    """Act as the user on the sandbox consent page; return the URL it redirects to."""
    with requests.Session() as browser:
        browser.trust_env = False
        page = browser.get(authorization_url, timeout=10)
        assert page.status_code == 200, page.text
        form = {
            unescape(name): unescape(value)
            for name, value in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text
            )
        }
        form.update(username=username, password=password, action=action)
        parts = urlsplit(authorization_url)
        answer = browser.post(
            f"{parts.scheme}://{parts.netloc}/oauth/authorize",
            data=form,
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text
        return str(answer.headers["Location"])


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: str
    allow_redirects: bool | None

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body, keep_blank_values=True))


@dataclass
class Recorder:
    """A ``session_factory`` whose sessions record every request they send."""

    sent: list[Sent] = field(default_factory=list)
    sessions: list[requests.Session] = field(default_factory=list)

    def __call__(self) -> requests.Session:
        recorder = self

        class RecordingSession(requests.Session):
            def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
                body = request.body.decode() if isinstance(request.body, bytes) else request.body
                recorder.sent.append(
                    Sent(
                        str(request.method),
                        str(request.url),
                        dict(request.headers),
                        body or "",
                        kwargs.get("allow_redirects"),
                    )
                )
                return super().send(request, **kwargs)

        session = RecordingSession()
        self.sessions.append(session)
        return session

    def grants(self) -> list[str]:
        return [s.form.get("grant_type", "") for s in self.sent]


class Clock:
    """A settable POSIX clock starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def token_posts(log: list[dict[str, Any]], path: str | None = None) -> list[dict[str, Any]]:
    """Token-endpoint requests in a sandbox request log (optionally one path only)."""
    paths = {path} if path else {"/oauth/token", "/oauth/v1/token"}
    return [e for e in log if e["path"] in paths]


def last_seq(sandbox: Any) -> int:
    """The sequence number of the last request the sandbox logged (0 if none)."""
    log = sandbox.request_log()
    return int(log[-1]["seq"]) if log else 0
