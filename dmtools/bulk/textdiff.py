"""Where a value changed: word-level differences of old and new values, for review.

Long texts are compared word by word (:class:`difflib.SequenceMatcher` over words, spaces
and punctuation), and only the changed places are shown with a few words of context on each
side; the unchanged stretches between them become ``…``. A change at the end of a 3,000
character description is therefore visible in a narrow column, which cutting both values
at the same prefix would hide. Tag lists show the tags removed and added.

Example:
    >>> old, new = sides("a long text that ends well", "a long text that ends badly")
    >>> to_text(new)
    'a long text that ends {+badly+}'
"""

from __future__ import annotations

import html
import json
import re
from difflib import SequenceMatcher
from typing import Any

__all__ = ["CONTEXT_WORDS", "Piece", "sides", "to_html", "to_text"]

#: Words kept on each side of a change; longer unchanged stretches become "…".
CONTEXT_WORDS = 6
#: Values up to this many characters are shown whole.
SHORT = 80
#: Longest run of one kind shown whole (a long insertion keeps its start and its end).
LONGEST = 120

#: One run of a shown value: ``("same" | "del" | "ins" | "gap", text)``.
Piece = tuple[str, str]

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")
_STYLE_DEL = "background:#fdd;color:#a00;text-decoration:line-through"
_STYLE_INS = "background:#dfd;color:#060;text-decoration:none"


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _tags(old: list[str], new: list[str]) -> tuple[list[Piece], list[Piece]]:
    gone, added = set(old) - set(new), set(new) - set(old)
    left = [("del" if t in gone else "same", t) for t in old]
    right = [("ins" if t in added else "same", t) for t in new]
    return left or [("gap", "(no tags)")], right or [("gap", "(no tags)")]


def _elide(pieces: list[Piece], changed: str, context: int) -> list[Piece]:
    """Keep ``context`` words around each ``changed`` piece; shorten the rest to ``…``."""
    if sum(len(t) for _, t in pieces) <= SHORT:
        return pieces
    near = [False] * len(pieces)
    hits = [i for i, (kind, _) in enumerate(pieces) if kind == changed]
    for i in hits:
        for j in range(max(0, i - 2 * context), min(len(pieces), i + 2 * context + 1)):
            near[j] = True  # tokens alternate word/space: 2 tokens per word
    if not hits:  # nothing changed on this side: its start and end
        near = [i < 2 * context or i >= len(pieces) - 2 * context for i in range(len(pieces))]
    out: list[Piece] = []
    for keep, piece in zip(near, pieces, strict=True):
        if keep:
            out.append(piece)
        elif not out or out[-1][0] != "gap":
            out.append(("gap", "… " if not out else " … "))
    if out and out[-1] == ("gap", " … "):
        out[-1] = ("gap", " …")
    return out


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Join neighbours of one kind; a run longer than :data:`LONGEST` keeps its two ends."""
    out: list[Piece] = []
    for kind, text in pieces:
        if out and out[-1][0] == kind and kind != "gap":
            out[-1] = (kind, out[-1][1] + text)
        else:
            out.append((kind, text))
    return [
        (kind, text[: LONGEST * 2 // 3] + " … " + text[-LONGEST // 3 :])
        if len(text) > LONGEST and kind != "gap"
        else (kind, text)
        for kind, text in out
    ]


def sides(old: Any, new: Any, *, context: int = CONTEXT_WORDS) -> tuple[list[Piece], list[Piece]]:
    """The old and the new value as pieces, changed words marked ``del`` (old side) and
    ``ins`` (new side), long unchanged stretches shortened to ``gap`` pieces (``…``)."""
    if isinstance(old, list) and isinstance(new, list):
        return _tags([str(t) for t in old], [str(t) for t in new])
    a, b = _TOKENS.findall(_plain(old)), _TOKENS.findall(_plain(new))
    left: list[Piece] = []
    right: list[Piece] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left += [("same", t) for t in a[i1:i2]]
            right += [("same", t) for t in b[j1:j2]]
        else:
            left += [("del", t) for t in a[i1:i2]]
            right += [("ins", t) for t in b[j1:j2]]
    left = _merge(_elide(left, "del", context)) if old is not None else [("gap", "(empty)")]
    right = _merge(_elide(right, "ins", context)) if new is not None else [("gap", "(cleared)")]
    return left, right


def _shown(text: str) -> str:
    return text.replace("\r", "").replace("\n", "↵ ")


def to_html(pieces: list[Piece], *, tags: bool = False) -> str:
    """The pieces as escaped HTML (``<del>``/``<ins>`` with inline colours)."""
    parts = []
    for kind, text in pieces:
        shown = html.escape(_shown(text))
        if tags and kind != "gap":
            shown = f"[{shown}]"
        if kind == "del":
            parts.append(f'<del style="{_STYLE_DEL}">{shown}</del>')
        elif kind == "ins":
            parts.append(f'<ins style="{_STYLE_INS}">{shown}</ins>')
        elif kind == "gap":
            parts.append(f'<span style="color:#888">{shown}</span>')
        else:
            parts.append(shown)
    return (" " if tags else "").join(parts)


def to_text(pieces: list[Piece], *, tags: bool = False) -> str:
    """The pieces as plain text: ``[-removed-]`` and ``{+added+}`` (the wdiff notation);
    tags are separated by commas."""
    marks = {"del": ("[-", "-]"), "ins": ("{+", "+}")}
    return (", " if tags else "").join(
        f"{marks[k][0]}{_shown(t)}{marks[k][1]}" if k in marks else _shown(t) for k, t in pieces
    )
