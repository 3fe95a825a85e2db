"""Client behaviour over a scripted HTTP server and a stand-in token manager.

The token manager here has exactly the methods and properties of the auth module's contract;
the sandbox-backed tests (tests/client/test_client_sandbox.py) use the real one.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from _support.fakeapi import CANARY_TOKEN, FakeAPI, FakeClock, err, ok

from dmtools.client import Client
from dmtools.config import Endpoints
from dmtools.errors import ServerError, TransportError
from dmtools.schema import LIMITS_PARTNER, LIMITS_PUBLIC


class FakeManager:
    def __init__(self, url: str, *, partner: bool = False, uid: str | None = "x1user") -> None:
        self.token = CANARY_TOKEN
        self.endpoints = Endpoints.sandbox(url)
        self.is_partner = partner
        self.uid = uid
        self.scopes = ("manage_videos", "email")
        self.expires_at = time.time() + 3 * 3600 + 120
        self.client_id = "key-123"
        self.grant = "client_credentials" if partner else "password"
        self.forgotten = 0
        self.unauthorized: list[str] = []

    def access_token(self) -> str:
        return self.token

    def handle_unauthorized(self, used_token: str) -> str:
        self.unauthorized.append(used_token)
        self.token = CANARY_TOKEN + "-new"
        return self.token

    def clear(self) -> None:
        self.forgotten += 1


def make(manager: FakeManager, **kw: Any) -> Client:
    clock = FakeClock()
    client = Client.from_token_manager(manager, sleep=clock.sleep, clock=clock, **kw)
    client.transport.retrier.rng = random.Random(1)
    return client


def test_public_key_calls_the_api_host_and_private_key_the_partner_rest_base(api: FakeAPI) -> None:
    with make(FakeManager(api.url)) as public, make(FakeManager(api.url, partner=True)) as partner:
        public.get("/video/x1")
        partner.get("/video/x1")
        assert not public.is_partner and partner.is_partner
        assert public.limits == LIMITS_PUBLIC and partner.limits == LIMITS_PARTNER
        assert partner.base_url == api.url + "/rest"
    assert [r["path"] for r in api.log] == ["/video/x1", "/rest/video/x1"]


def test_verbs_map_to_operation_classes(api: FakeAPI) -> None:
    api.script("/a", err(503), ok({"read": 1}))
    api.script("/me/videos", err(503))
    api.script("/video/x1", err(500), ok())
    with make(FakeManager(api.url)) as client:
        assert client.get("/a") == {"read": 1}
        with pytest.raises(ServerError):
            client.post("/me/videos", {"url": "u"}, op="create")
        with pytest.raises(ServerError):
            client.delete("/video/x1")
    assert [r["method"] for r in api.log] == ["GET", "GET", "POST", "DELETE"]


def test_post_sends_params_in_the_query_and_data_in_the_body(api: FakeAPI) -> None:
    with make(FakeManager(api.url)) as client:
        client.post(
            "/video/x1", {"title": "T", "tags": ["a", "b"]}, params={"fields": ["id", "title"]}
        )
    (rec,) = api.log
    assert rec["query"] == {"fields": "id,title"} and rec["form"] == {"title": "T", "tags": "a,b"}


def test_iterate_walks_pages_until_has_more_is_false(api: FakeAPI) -> None:
    api.script(
        "/me/videos",
        ok(
            {
                "page": 1,
                "limit": 2,
                "has_more": True,
                "total": 99,
                "list": [{"id": "a"}, {"id": "b"}],
            }
        ),
        ok({"page": 2, "limit": 2, "has_more": False, "total": 99, "list": [{"id": "c"}]}),
    )
    with make(FakeManager(api.url)) as client:
        assert [v["id"] for v in client.iterate("/me/videos", {"limit": 2})] == ["a", "b", "c"]
    assert len(api.log) == 2


def test_me_sends_fields_and_account_id_comes_from_the_token_or_one_me_call(api: FakeAPI) -> None:
    api.routes["/me"] = api.routes["/rest/me"] = lambda record: ok(
        {"id": "x9org", "screenname": "Org"}
    )
    with make(FakeManager(api.url)) as client:
        assert client.me(["id", "screenname"])["screenname"] == "Org"
        assert client.account_id == "x1user"
    assert api.log[0]["query"] == {"fields": "id,screenname"}
    with make(FakeManager(api.url, partner=True, uid=None)) as client:
        assert client.account_id == "x9org" and client.account_id == "x9org"
    assert len(api.requests_to("/rest/me")) == 1


def test_logout_revokes_then_forgets_tokens_even_when_the_session_is_already_gone(
    api: FakeAPI,
) -> None:
    manager = FakeManager(api.url)
    with make(manager) as client:
        client.logout()
    assert manager.forgotten == 1 and api.log[-1]["path"] == "/logout"
    api.script("/logout", err(401, "invalid_token"))
    with make(manager) as client:
        client.logout()
    assert manager.forgotten == 2 and manager.unauthorized == []  # no refresh just to log out


def test_logout_forgets_tokens_when_the_api_cannot_be_reached(api: FakeAPI) -> None:
    manager = FakeManager(api.url)
    api.script(
        "/logout",
        {"reset": True},
        {"reset": True},
        {"reset": True},
        {"reset": True},
        {"reset": True},
    )
    with make(manager) as client, pytest.raises(TransportError):
        client.logout()
    assert manager.forgotten == 1


def test_repr_says_who_where_what_and_until_when_without_secrets(api: FakeAPI) -> None:
    with make(FakeManager(api.url)) as client:
        client.get("/a")
        text, markup = repr(client), client._repr_html_()
        assert client.scopes == ("manage_videos", "email")
        assert client.token_expires_at is not None
        assert abs(client.token_expires_at.timestamp() - (time.time() + 3 * 3600 + 120)) < 5
    for shown in (text, markup):
        assert "x1user" in shown and api.url in shown and "manage_videos email" in shown
        assert "3 h 0" in shown and "password" in shown
        assert CANARY_TOKEN not in shown
    assert markup.startswith("<table>")


def test_repr_html_escapes_values(api: FakeAPI) -> None:
    manager = FakeManager(api.url, uid="<script>alert(1)</script>")
    manager.expires_at = time.time() - 10
    with make(manager) as client:
        markup = client._repr_html_()
        assert "<script>" not in markup and "&lt;script&gt;" in markup
        assert "expired" in repr(client)
