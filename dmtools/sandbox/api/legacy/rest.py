"""Legacy REST dispatch: a :class:`Call` to its resource handler (:data:`urls.RESOURCES`).

Handlers take the call and the path arguments and return JSON-able data, or raise an
:class:`~dmtools.sandbox.api.errors.ApiError` or a state error. The helpers of
:class:`Routes` hold the legacy access rules: which scope a capability needs (``manage_videos``
for a public key; ``read_videos``, ``edit_videos``... for a private key), and who owns what.
"""

from __future__ import annotations

from typing import Any

from dmtools.sandbox.api.base import Context, Resources
from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.legacy.calls import Call
from dmtools.sandbox.api.legacy.errors import forbidden, not_found
from dmtools.sandbox.api.legacy.urls import RESOURCES
from dmtools.sandbox.state.tokens import Principal


def scope_for(partner: bool, capability: str) -> str:
    """The legacy scope naming ``capability`` (read/edit/delete/upload) for a kind of key."""
    return f"{capability}_videos" if partner else "manage_videos"


class Routes:
    """Base of the legacy resource handlers: the shared state and the access rules."""

    def __init__(self, ctx: Context) -> None:
        self.store = ctx.store
        self.tokens = ctx.tokens
        self.uploads = ctx.uploads

    @staticmethod
    def need(call: Call, capability: str | None = None) -> Principal:
        """The call's principal, which must exist and allow ``capability`` (else 403)."""
        principal = call.principal
        if principal is None:
            scope = scope_for(call.partner, capability) if capability else None
            raise forbidden(
                call.route,
                scope,
                None
                if scope
                else f"Insufficient rights for route {call.route}: an access token is required.",
            )
        if capability and not principal.can(capability):
            raise forbidden(call.route, scope_for(principal.partner, capability))
        return principal

    @staticmethod
    def not_yours(call: Call, principal: Principal) -> ApiError:
        """403: the object belongs to someone the principal does not speak for."""
        if principal.partner:
            return forbidden(
                call.route,
                message=f"Insufficient rights for route {call.route}: "
                "this API key is limited to the channels of its organisation.",
            )
        return forbidden(
            call.route,
            message=f"Insufficient rights for route {call.route}: "
            "the object belongs to another user.",
        )

    @staticmethod
    def owner_view(call: Call, owner: str) -> bool:
        """Whether the call sees ``owner``'s objects as their owner (private fields...)."""
        principal = call.principal
        return principal is not None and principal.owns(owner) and principal.can("read")

    def resolve_user(self, call: Call, uid: str) -> dict[str, Any]:
        """The user ``uid`` (an id or a username; ``me`` is the principal's account)."""
        if uid == "me":
            uid = self.need(call).account_id or ""
        user = self.store.user(uid)
        if user is None:
            raise not_found("user", uid)
        return user


class RestApi:
    """Dispatches a :class:`Call` to its resource handler."""

    def __init__(self, groups: dict[str, Routes]) -> None:
        self.resources = Resources(RESOURCES, groups)

    def dispatch(self, call: Call) -> Any:
        handler, args = self.resources.match(call.method, call.path or "/", call.route)
        return handler(call, **args)
