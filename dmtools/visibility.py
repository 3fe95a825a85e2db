"""What a frame of videos could see: the whole channel, or only its public videos.

The API hides private and unpublished videos from a list unless the token may read them:
the owner's own list with ``manage_videos`` (public key) or ``read_videos``/``manage_videos``
(private key, for the channels of its organisation). A frame loaded without that right holds
only public, published videos, so a report of it must not claim "0 private videos" or
"100 % public".

:func:`dmtools.load_videos` records a partial view in ``df.attrs["dmtools.view"]`` (pandas
keeps ``attrs`` through copies, selections and ``head``; a frame read back from a file or
rebuilt by hand has none, and :func:`mark_partial` sets it again). Summaries, tables, charts
and the HTML report read it through :func:`view_note`.

Example:
    >>> df = dm.load_videos(read_only_client)                       # doctest: +SKIP
    >>> dm.visibility.view_note(df)                                 # doctest: +SKIP
    'public videos only: this login cannot see private or unpublished videos ...'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["VIEW_ATTR", "load_note", "mark_partial", "partial_reason", "view_note"]

#: Key of ``DataFrame.attrs`` holding ``{"partial": True, "note": ...}`` for a partial view.
VIEW_ATTR = "dmtools.view"

_OWN = ("me",)


def partial_reason(
    *,
    owner: str | None,
    account_id: str | None,
    scopes: Sequence[str],
    partner: bool,
    readers: Sequence[str] | None = None,
) -> str | None:
    """Why a list of ``owner``'s videos cannot show private and unpublished ones, or None
    when it shows them all (the rules of the API's visibility, see the module notes;
    ``readers``: the scopes that show them, when the API is not the Platform API)."""
    own = owner in _OWN or (owner is not None and account_id is not None and owner == account_id)
    if not own:
        whose = "the global list" if owner is None else "another account's channel"
        return (
            f"public videos only: {whose} never shows private or unpublished videos, so "
            "their counts are unknown"
        )
    if readers is None:
        readers = ("read_videos", "manage_videos") if partner else ("manage_videos",)
    if any(scope in scopes for scope in readers):
        return None
    needed = " or ".join(readers)
    return (
        "public videos only: this login cannot see private or unpublished videos "
        f"(it needs the {needed} scope), so their counts are unknown"
    )


def load_note(client: Any, owner: str | None, frame: Any) -> str | None:
    """Why a frame loaded through ``client`` from ``owner``'s list holds only public videos,
    or None when it may hold them all (it does when any private or unpublished video is in).
    """
    for column, hidden in (("private", True), ("published", False)):
        if column in frame.columns and bool(frame[column].eq(hidden).fillna(False).any()):
            return None
    account = None if owner in (None, *_OWN) else str(client.account_id)
    return partial_reason(
        owner=owner,
        account_id=account,
        scopes=list(client.scopes),
        partner=client.is_partner,
        readers=getattr(getattr(client, "dialect", None), "reader_scopes", None),
    )


def mark_partial(df: Any, note: str | None) -> Any:
    """Record on ``df`` that it holds only public videos (``note`` None: a complete view).

    Returns ``df`` itself (its ``attrs`` are changed in place).
    """
    if note is None:
        df.attrs.pop(VIEW_ATTR, None)
    else:
        df.attrs[VIEW_ATTR] = {"partial": True, "note": str(note)}
    return df


def view_note(df: Any) -> str | None:
    """The partial-view note of a frame (or of a summary built from one), or None."""
    attrs = getattr(df, "attrs", None)
    view = attrs.get(VIEW_ATTR) if isinstance(attrs, Mapping) else None
    if isinstance(view, Mapping) and view.get("partial"):
        return str(view.get("note") or "public videos only")
    return None
