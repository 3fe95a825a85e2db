"""What the scripted server (:mod:`_support.fakeapi`) says, in each API dialect's words.

A transport test written once runs on the legacy Platform API and on API v2 (the ``dialect``
fixture of ``tests/conftest.py``): it scripts :class:`Wire` steps instead of raw JSON, sends
the calls the dialect words, and finds them in the server's log under the dialect's paths.
Both dialects act with a private key (API v2 takes nothing else). What differs, from the
references (``platform-api.md``; ``dailymotion-v2-and-reporting.md`` §1.3, §2.2, §5 and §9):

============== ==================================== =========================================
concern        legacy (private key, partner host)   API v2
============== ==================================== =========================================
API base       ``/rest``                            ``/v2``
a video        ``/rest/video/<id>``                 ``/v2/videos/<id>``
read           ``GET`` → 200 ``{"id", ...}``         ``GET`` → 200 ``{"video_id", ...}``
edit           ``POST`` form → 200 with the video   ``PATCH`` JSON → 204, no body
delete         ``DELETE`` → 200 ``{}``              ``DELETE`` → 204, no body
error body     ``{"error": {"code": 404, "type":    ``{"error": {"code": "RESOURCE_NOT_FOUND",
               "not_found", "message"}}``           "message", "correlation_id", "details",
                                                    "documentation_url"}}``
stale token    401 ``invalid_token``                401 ``UNAUTHENTICATED`` (``details.reason``
                                                    ``expired_token``)
token endpoint ``/oauth/v1/token``, with a null     ``/oauth2/v2/token``, 1,800 s, no refresh
               ``refresh_token``                    token
============== ==================================== =========================================

v2 error bodies are the sandbox's (:mod:`dmtools.sandbox.api.v2.errors`): codes other than
``RESOURCE_NOT_FOUND`` and ``MISSING_PERMISSIONS`` are opaque to clients (§9: "key on HTTP
status"), so the sandbox's decisions serve here as well.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from _support.fakeapi import CANARY_TOKEN, FakeAPI, Step
from dmtools.config import Endpoints
from dmtools.dialects import Call, Dialect, Op, get_dialect
from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.v2 import errors as v2_errors

if TYPE_CHECKING:
    from dmtools.auth.manager import TokenManager

_BASE = {"legacy": "/rest", "v2": "/v2"}
_VIDEO = {"legacy": "/rest/video/{}", "v2": "/v2/videos/{}"}
_TOKEN = {"legacy": "/oauth/v1/token", "v2": "/oauth2/v2/token"}
_METHOD: dict[str, dict[str, str]] = {
    "legacy": {"read": "GET", "edit": "POST", "delete": "DELETE"},
    "v2": {"read": "GET", "edit": "PATCH", "delete": "DELETE"},
}


@dataclass(frozen=True)
class Wire:
    """The scripted server's words in one API dialect (``"legacy"`` or ``"v2"``)."""

    dialect: str

    @property
    def api(self) -> Dialect:
        return get_dialect(self.dialect)

    @property
    def v2(self) -> bool:
        return self.dialect == "v2"

    def base(self, server: FakeAPI | str) -> str:
        """The API base a private key's calls go to on ``server`` (or its URL)."""
        return (server if isinstance(server, str) else server.url) + _BASE[self.dialect]

    def video(self, vid: str = "x1") -> str:
        """The path of a video as the server sees it (the key of :meth:`FakeAPI.script`)."""
        return _VIDEO[self.dialect].format(vid)

    def method(self, op: Op) -> str:
        """The HTTP method of a read, an edit or a delete."""
        return _METHOD[self.dialect][op]

    def call(self, op: Op, vid: str = "x1") -> Call:
        """The call dmtools sends to read, edit (the title) or delete a video."""
        if op == "read":
            return self.api.video_call(vid, ["id", "title"])
        if op == "edit":
            return self.api.edit_call(vid, {"title": "t"}, None)
        return self.api.delete_call(vid)

    # -- answers ------------------------------------------------------------------------------

    def done(self, op: Op, vid: str = "x1", **kw: Any) -> Step:
        """The success answer of ``op`` (v2 edits and deletes: 204 without a body)."""
        if op == "read":
            key = "video_id" if self.v2 else "id"
            return {"status": 200, "json": {key: vid, "title": "t"}, **kw}
        if self.v2:
            return {"status": 204, **kw}
        return {"status": 200, "json": {"id": vid, "title": "t"} if op == "edit" else {}, **kw}

    @staticmethod
    def result(step: Step) -> Any:
        """What the transport returns for the success answer ``step`` (``{}`` without a body)."""
        return step.get("json", {})

    def error(self, status: int, kind: str = "x", **kw: Any) -> Step:
        """An error answer; ``kind`` is the legacy ``type`` (v2 codes go by status)."""
        if not self.v2:
            body = {"code": status, "type": kind, "message": f"m{status}"}
            return {"status": status, "json": {"error": body}, **kw}
        error = ApiError(status, kind, f"m{status}")
        return {"status": status, "json": v2_errors.error_body(error), **kw}

    def unauthorized(self) -> Step:
        """The 401 of an expired access token."""
        if not self.v2:
            body = {"code": 401, "type": "invalid_token", "message": "expired"}
            return {"status": 401, "json": {"error": body}}
        error = v2_errors.unauthenticated("expired_token")
        return {"status": 401, "json": v2_errors.error_body(error), "headers": error.headers}

    # -- tokens -------------------------------------------------------------------------------

    @property
    def token_path(self) -> str:
        return _TOKEN[self.dialect]

    def serve_tokens(self, server: FakeAPI) -> list[str]:
        """Answer ``client_credentials`` requests at the dialect's token endpoint with a new
        access token each time; the list of the tokens issued, in order."""
        issued: list[str] = []
        numbers = itertools.count(1)

        def token(record: dict[str, Any]) -> Step:
            if record["form"].get("grant_type") != "client_credentials":
                return {"status": 400, "json": {"error": "unsupported_grant_type"}}
            issued.append(f"{CANARY_TOKEN}-{self.dialect}-{next(numbers)}")
            body: dict[str, Any] = {
                "access_token": issued[-1],
                "token_type": "Bearer",
                "expires_in": 1800 if self.v2 else 36000,
                "scope": record["form"].get("scope", ""),
            }
            if not self.v2:
                body["refresh_token"] = None
            return {"status": 200, "json": body, "headers": {"Cache-Control": "no-store"}}

        server.routes[self.token_path] = token
        return issued

    def login(self, server: FakeAPI) -> TokenManager:
        """A private key's session on ``server`` (its token endpoint served first)."""
        from dmtools.auth import LoginSpec, open_session, scopes_for

        spec = LoginSpec(
            "client_credentials",
            "key-private",
            "secret-private",
            scopes=scopes_for("delete", "private", self.dialect),
            endpoints=Endpoints.sandbox(server.url),
            dialect=self.dialect,
        )
        return open_session(spec)
