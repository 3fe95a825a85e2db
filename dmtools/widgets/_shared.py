"""Helpers shared by the panels: status boxes and readable error text."""

from __future__ import annotations

import html

from dmtools.errors import APIError, DailymotionError, InputError
from dmtools.secrets import redact

#: Colours of status messages, by kind.
_COLOURS = {
    "info": "#555",
    "busy": "#1f5fa8",
    "ok": "#1d7a2e",
    "warn": "#a05a00",
    "error": "#b00020",
}


def status_html(kind: str, text: str) -> str:
    """A one-paragraph status message, escaped (``kind``: info, busy, ok, warn or error)."""
    colour = _COLOURS.get(kind, _COLOURS["info"])
    return (
        f'<div class="dmtools-status dmtools-{html.escape(kind)}" '
        f'style="color:{colour};white-space:pre-wrap">{html.escape(text)}</div>'
    )


def error_text(exc: BaseException) -> str:
    """An error as a sentence for people (no HTTP plumbing, never a secret)."""
    if isinstance(exc, APIError):
        text = exc.message or str(exc)
    elif isinstance(exc, InputError):
        text = str(exc)
    elif isinstance(exc, DailymotionError):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = f"{exc.strerror or exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return redact(text)
