"""Helpers for the widget, notebook and browser tests: secret scans and widget-tree states."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from dmtools.sandbox import Sandbox

#: Every kind of sandbox secret: client secrets (public ``emu_ps_``, private ``emu_xs_``),
#: access and refresh tokens, authorization codes, and API v2 access tokens (JWTs).
SANDBOX_SECRET = re.compile(
    r"emu_(?:ps|xs|at|rt|ac)_[A-Za-z0-9_\-]{6,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
)


def sandbox_secrets(sb: Sandbox) -> list[str]:
    """The exact secret values a sandbox hands out: both client secrets, the user password."""
    creds = sb.credentials
    return [creds.public_key.client_secret, creds.private_key.client_secret, creds.user.password]


def find_secrets(text: str, values: Iterable[str] = ()) -> list[str]:
    """Sandbox-looking secrets and any of ``values`` found in ``text``."""
    hits = SANDBOX_SECRET.findall(text)
    hits += [value for value in values if value and value in text]
    return hits


def walk(widget: Any) -> Iterator[Any]:
    """``widget`` and every widget it refers to (children, layout, style...), once each."""
    from ipywidgets import Widget

    seen: set[int] = set()
    stack = [widget]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for name in current.keys:
            value = getattr(current, name, None)
            items = value if isinstance(value, list | tuple) else [value]
            stack.extend(item for item in items if isinstance(item, Widget))


def widget_state_text(widget: Any) -> str:
    """The synced state of every widget of the tree, as one JSON text."""
    return json.dumps([w.get_state() for w in walk(widget)], default=str)
