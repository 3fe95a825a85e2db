"""The ``fields`` parameter of API v2: names, dot notation, nested embedded objects.

A :class:`Catalogue` lists what an object has: scalar fields and embedded objects with their
sub-fields. ``fields=title,profile`` returns ``title`` and the whole ``profile`` object;
``fields=profile.display_name`` returns ``{"profile": {"display_name": ...}}`` (only that
sub-key, nested); several dotted names of one object merge. Unknown names are a 400
``INVALID_PARAMETER`` naming the field (or ignored, for the lenient ``/v2/me``).

Example:
    >>> cat = Catalogue(frozenset({"title"}), {"profile": ("name", "profile_id")}, ("title",))
    >>> cat.parse("title,profile.name")
    {'title': None, 'profile': ('name',)}
    >>> cat.pick(cat.parse("profile.name"), lambda n: {"name": "demo", "profile_id": "x1"})
    {'profile': {'name': 'demo'}}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dmtools.sandbox.api.v2.errors import invalid

#: ``{top-level name: None (all of it) or the sub-fields asked for}``, in request order.
Selection = dict[str, tuple[str, ...] | None]


def narrow(value: Any, subs: tuple[str, ...]) -> Any:
    """An embedded object cut down to the sub-fields asked for (in that order)."""
    if isinstance(value, dict | Mapping):  # dict first: the common case, checked fastest
        return {sub: value.get(sub) for sub in subs}
    return value


@dataclass(frozen=True)
class Catalogue:
    """The readable fields of one kind of object."""

    scalars: frozenset[str]
    embedded: Mapping[str, tuple[str, ...]]
    default: tuple[str, ...]

    def _known(self, name: str) -> bool:
        head, dot, sub = name.partition(".")
        if not dot:
            return head in self.scalars or head in self.embedded
        return sub in self.embedded.get(head, ())

    def parse(self, value: str | None, *, lenient: bool = False) -> Selection:
        """The selection of a ``fields`` value (None or empty: the default set).

        Raises:
            ApiError: 400 ``INVALID_PARAMETER`` for an unknown name (unless ``lenient``).
        """
        names = [n.strip() for n in (value or "").split(",") if n.strip()]
        selection: Selection = {}
        for name in names:
            if not self._known(name):
                if lenient:
                    continue
                raise invalid(
                    "fields", "unknown_field", f"Unknown field '{name}' in 'fields'.", field=name
                )
            head, dot, sub = name.partition(".")
            if not dot or selection.get(head, ()) is None:
                selection[head] = None
            else:
                selection[head] = tuple(dict.fromkeys((*(selection.get(head) or ()), sub)))
        if not selection:
            selection = dict.fromkeys(self.default)
        return selection

    def pick(self, selection: Selection, value_of: Callable[[str], Any]) -> dict[str, Any]:
        """The object's selected fields; ``value_of(name)`` gives a top-level value."""
        out: dict[str, Any] = {}
        for name, subs in selection.items():
            value = value_of(name)
            out[name] = value if subs is None else narrow(value, subs)
        return out

    def everything(self) -> Selection:
        """Every field of the object."""
        return dict.fromkeys((*sorted(self.scalars), *self.embedded))
