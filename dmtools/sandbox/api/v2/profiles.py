"""API v2 account and profile resources: ``/v2/me`` and ``/v2/profiles/{id}``.

* ``GET /v2/me`` (``account.read``): ``{"user_id", "username", "profiles": [{"profile_id",
  "name", "display_name"}]}``; with a private key the user is its first channel (as the
  legacy ``uid``) and the profiles are the key's channels. Unknown ``fields`` names are
  ignored here (real clients ask for ``id``).
* ``GET /v2/profiles/{id}`` (``profile.read``): one of the key's profiles; unknown ``fields``
  names are refused.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from dmtools.sandbox.api.base import Context
from dmtools.sandbox.api.v2.calls import Call
from dmtools.sandbox.api.v2.errors import not_found
from dmtools.sandbox.api.v2.fields import Catalogue
from dmtools.sandbox.api.v2.lists import query
from dmtools.sandbox.api.v2.views import WEB, iso
from dmtools.sandbox.api.wire import json_response

ME = Catalogue(
    scalars=frozenset({"user_id", "username", "profiles"}),
    embedded={},
    default=("user_id", "username", "profiles"),
)
PROFILE = Catalogue(
    scalars=frozenset(
        {"can_change_name", "created_at", "description", "display_name", "name", "profile_id"}
    ),
    embedded={
        "content_defaults": ("category", "language", "country", "is_for_kids", "visibility"),
        "social_links": ("website", "facebook", "instagram", "x", "youtube"),
        "webhook": ("url", "events"),
    },
    default=("profile_id", "name", "display_name", "description", "created_at"),
)
_FIELDS = frozenset({"fields"})


def profile_summary(user: dict[str, Any]) -> dict[str, Any]:
    """A profile as ``/v2/me`` lists it."""
    return {
        "profile_id": user["id"],
        "name": user["username"],
        "display_name": user["screenname"],
    }


def profile_value(user: dict[str, Any], name: str) -> Any:
    """One field of ``GET /v2/profiles/{id}``."""
    values: dict[str, Any] = {
        "profile_id": user["id"],
        "name": user["username"],
        "display_name": user["screenname"],
        "description": f"{user['screenname']} on Dailymotion",
        "created_at": iso(user["created_time"]),
        "can_change_name": False,
        "content_defaults": {
            "category": None,
            "language": user["language"],
            "country": user["country"],
            "is_for_kids": False,
            "visibility": "public",
        },
        "social_links": {
            "website": f"{WEB}/{user['username']}",
            "facebook": None,
            "instagram": None,
            "x": None,
            "youtube": None,
        },
        "webhook": {"url": None, "events": []},
    }
    return values[name]


class ProfileRoutes:
    """Handlers of ``/v2/me`` and ``/v2/profiles/{id}``."""

    def __init__(self, ctx: Context) -> None:
        self.store = ctx.store

    def me(self, call: Call) -> Response:
        principal = call.need("account.read")
        selection = ME.parse(query(call.request, _FIELDS).get("fields"), lenient=True)
        account = self.store.user(principal.account_id or "") or {}
        profiles = [self.store.user(ch) for ch in principal.channels]
        values = {
            "user_id": principal.account_id,
            "username": account.get("username"),
            "profiles": [profile_summary(u) for u in profiles if u is not None],
        }
        return json_response(ME.pick(selection, values.__getitem__))

    def profile(self, call: Call, pid: str) -> Response:
        call.need("profile.read")
        selection = PROFILE.parse(query(call.request, _FIELDS).get("fields"))
        user = self.store.user(pid)
        if user is None or user["id"] != pid:
            raise not_found("Profile", pid)
        call.need_profile(pid, "profile.read")
        return json_response(PROFILE.pick(selection, lambda name: profile_value(user, name)))
