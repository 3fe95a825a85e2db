"""Legacy user, channel and utility resources: ``/me``, ``/user/<id>``, ``/channels``,
``/channel/<id>``, ``/echo``, ``/auth``, ``/logout`` and ``/file/upload``."""

from __future__ import annotations

from typing import Any

from dmtools.sandbox.api.legacy.calls import Call
from dmtools.sandbox.api.legacy.errors import forbidden, missing_parameter, not_found
from dmtools.sandbox.api.legacy.queries import envelope, paging
from dmtools.sandbox.api.legacy.rest import Routes
from dmtools.sandbox.api.legacy.views import (
    CHANNEL_READABLE,
    DEFAULT_CHANNEL_FIELDS,
    DEFAULT_USER_FIELDS,
    USER_READABLE,
    parse_fields,
    render_channel,
    user_value,
)
from dmtools.schema import CATEGORIES


class GeneralRoutes(Routes):
    """Handlers of the user, channel and utility resources."""

    def _render_user(self, call: Call, user: dict[str, Any]) -> dict[str, Any]:
        names = parse_fields(call.params.get("fields"), USER_READABLE, DEFAULT_USER_FIELDS)
        principal = call.principal
        own = principal is not None and principal.owns(user["id"])
        if "email" in names and not (own and principal is not None and "email" in principal.scopes):
            raise forbidden(call.route, "email")
        stats: list[tuple[int, int]] = []

        def lazy_stats() -> tuple[int, int]:
            if not stats:
                stats.append(self.store.user_stats(user["id"]))
            return stats[0]

        out = {n: user_value(user, n, lazy_stats) for n in names}
        if "limits" in out and not own:
            out["limits"] = None
        return out

    def me(self, call: Call) -> Any:
        return self._render_user(call, self.resolve_user(call, "me"))

    def user(self, call: Call, uid: str) -> Any:
        return self._render_user(call, self.resolve_user(call, uid))

    def channels(self, call: Call) -> Any:
        names = parse_fields(call.params.get("fields"), CHANNEL_READABLE, DEFAULT_CHANNEL_FIELDS)
        ceiling = self.store.settings.list_ceiling
        pages = paging(call.params, ceiling, default_limit=50)
        items = [render_channel(c, names) for c in CATEGORIES]
        return envelope(
            pages, len(items), items[pages.offset : pages.offset + pages.limit], ceiling
        )

    def channel(self, call: Call, cid: str) -> Any:
        if cid not in CATEGORIES:
            raise not_found("channel", cid)
        names = parse_fields(call.params.get("fields"), CHANNEL_READABLE, DEFAULT_CHANNEL_FIELDS)
        return render_channel(cid, names)

    def echo(self, call: Call) -> Any:
        message = call.params.get("message")
        if message is None or message == "":
            raise missing_parameter("message")
        return {"message": message}

    def auth(self, call: Call) -> Any:
        principal = call.principal
        if principal is None:
            return {"id": None, "username": None, "scope": [], "client_id": None, "roles": []}
        user = self.store.user(principal.account_id or "") or {}
        info: dict[str, Any] = {
            "id": user.get("id"),
            "username": user.get("username"),
            "screenname": user.get("screenname"),
            "scope": sorted(principal.scopes),
            "client_id": principal.client_id,
            "roles": [],
            "api_key_type": principal.kind,
        }
        if principal.partner:
            info["channels"] = list(principal.channels)
        return info

    def logout(self, call: Call) -> Any:
        if call.principal is not None:
            self.tokens.revoke_family(call.principal.family)
        return {}

    def file_upload(self, call: Call) -> Any:
        principal = self.need(call, "upload")
        return self.uploads.new_target(call.base_url, principal.client_id)
