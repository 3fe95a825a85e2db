"""What every API dialect plugs into: URL routes, the shared context, the dialect protocol.

A dialect is a class built from a :class:`Context` with a ``routes`` table of :class:`Route`
entries; each route names one of its methods, which takes the werkzeug ``Request`` and
returns a ``Response``. Its ``render_error`` turns an exception a route raised (an
:class:`~dmtools.sandbox.api.errors.ApiError`, a state error, or its own kinds) into the
dialect's error answer, or returns None for exceptions it does not know (a bug: the app
answers 500 and logs it).

Example:
    >>> router = Router([("legacy", (Route("/oauth/token", "token"), Route("/", "rest", True)))])
    >>> router.match("/oauth/token")[1].endpoint, router.match("/me")[1].endpoint
    ('token', 'rest')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

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
