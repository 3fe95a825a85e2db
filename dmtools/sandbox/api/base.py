"""What every API dialect plugs into: URL routes, the shared context, the dialect protocol.

A dialect is a class built from a :class:`Context` with a ``routes`` table of :class:`Route`
entries; each route names one of its methods, which takes the werkzeug ``Request`` and
returns a ``Response`` (the REST resources behind a route are a :class:`Resources` table).
Its ``render_error`` turns an exception a route raised (an
:class:`~dmtools.sandbox.api.errors.ApiError`, a state error, or its own kinds) into the
dialect's error answer, or returns None for exceptions it does not know (a bug: the app
answers 500 and logs it).

Example:
    >>> router = Router([("legacy", (Route("/oauth/token", "token"), Route("/", "rest", True)))])
    >>> router.match("/oauth/token")[1].endpoint, router.match("/me")[1].endpoint
    ('token', 'rest')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from dmtools.sandbox.api.errors import ApiError

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from dmtools.sandbox.api.uploads import Uploads
    from dmtools.sandbox.state.store import Store
    from dmtools.sandbox.state.tokens import Tokens


@dataclass(frozen=True)
class Route:
    """One entry of a URL table.

    Attributes:
        path: the exact path; with ``prefix``, every path starting with it (the longest
            matching prefix wins, and exact paths win over prefixes).
        endpoint: the name of the owner's method that answers.
        prefix: match ``path`` as a prefix.
        streams_body: the method reads the body itself (uploads): no 1 MiB pre-read.
    """

    path: str
    endpoint: str
    prefix: bool = False
    streams_body: bool = False


@dataclass(frozen=True)
class Context:
    """The state every dialect serves: one store, its tokens, the upload server."""

    store: Store
    tokens: Tokens
    uploads: Uploads


class Dialect(Protocol):
    """An API dialect (see the module docstring)."""

    name: str

    @property
    def routes(self) -> Sequence[Route]: ...

    def render_error(self, exc: Exception) -> Response | None: ...


class Router:
    """Finds the owner and route of a path in several URL tables (duplicates are refused)."""

    def __init__(self, tables: Iterable[tuple[Any, Sequence[Route]]]) -> None:
        self._exact: dict[str, tuple[Any, Route]] = {}
        prefixes: dict[str, tuple[Any, Route]] = {}
        for owner, routes in tables:
            for route in routes:
                table = prefixes if route.prefix else self._exact
                if route.path in table:
                    raise ValueError(f"two routes for {route.path!r}")
                table[route.path] = (owner, route)
        self._prefixes = sorted(prefixes.items(), key=lambda item: -len(item[0]))

    def match(self, path: str) -> tuple[Any, Route] | None:
        """``(owner, route)`` serving ``path``, or None."""
        found = self._exact.get(path)
        if found is not None:
            return found
        for prefix, target in self._prefixes:
            if path.startswith(prefix):
                return target
        return None


class Resources:
    """A dialect's REST resources: a ``(path, "group.handler", methods)`` table bound to the
    handler objects of each group (werkzeug routing: ``/video/<vid>``...)."""

    def __init__(
        self, table: Iterable[tuple[str, str, Sequence[str]]], groups: Mapping[str, Any]
    ) -> None:
        rows = list(table)
        self.map = Map(
            [Rule(path, endpoint=name, methods=methods) for path, name, methods in rows],
            strict_slashes=False,
            merge_slashes=False,
        )
        self.handlers: dict[str, Callable[..., Any]] = {}
        for _, name, _ in rows:
            group, handler = name.split(".")
            self.handlers[name] = getattr(groups[group], handler)

    def match(
        self, method: str, path: str, route: str
    ) -> tuple[Callable[..., Any], dict[str, Any]]:
        """The handler of ``method path`` and its path arguments.

        Raises:
            ApiError: 405 ``method_not_allowed`` (with ``Allow``) or 404 ``not_found``
                (``reason`` ``unknown_route``); ``route`` names the call in the message.
        """
        adapter = self.map.bind("sandbox", "/")
        try:
            endpoint, args = adapter.match(path, method=method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            raise ApiError(
                405,
                "method_not_allowed",
                f"Method {method} is not allowed for {path} (allowed: {allowed}).",
                {"allowed": allowed},
                {"Allow": allowed},
            ) from None
        except NotFound:
            raise ApiError(
                404, "not_found", f"Unknown route {route}.", {"reason": "unknown_route"}
            ) from None
        return self.handlers[str(endpoint)], dict(args)
