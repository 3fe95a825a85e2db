"""What every plan and every job shares: the operation statuses and the plan surface.

**Operation statuses** (:data:`OpStatus`, one type for the journal, the runner, the workers
and the results). The journal walks an operation through them; a result reports each
operation with one of :data:`STATUSES`:

=================  ==============================================  =========================
status             meaning                                         reported as
=================  ==============================================  =========================
``planned``        not sent yet                                    ``not_attempted``
``sending``        a write is on its way (committed before it)     ``failed`` (in doubt)
``in_doubt``       a write may or may not have happened            ``failed`` (in doubt)
``applied``        written (or confirmed by reading back)          itself (final)
``unchanged``      the server already held the planned values      itself (final)
``conflict``       the video changed since the plan was made       itself (final)
``failed``         refused or interrupted; a later run tries again itself
``deleted``        deleted (or confirmed gone)                     itself (final)
``already_absent`` the video did not exist                         itself (final)
=================  ==============================================  =========================

**The plan surface** (:class:`PlanBase`): :class:`~dmtools.bulk.EditPlan` and
:class:`~dmtools.bulk.DeletePlan` share the fingerprint (sha256 of their content), the file
format (``to_dict``/``from_dict``/``save``/``load``, with the same checks and errors), the
container protocol and the notebook display; each says what its content and summary are.
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, get_args

from dmtools.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ERROR_TYPES",
    "FINAL",
    "IN_DOUBT",
    "STATUSES",
    "OpStatus",
    "PlanBase",
    "fingerprint_of",
    "reported",
]

#: Every status an operation can have, in the journal or in a result (see the module notes).
OpStatus = Literal[
    "planned",
    "sending",
    "in_doubt",
    "applied",
    "unchanged",
    "conflict",
    "failed",
    "not_attempted",
    "deleted",
    "already_absent",
]
#: States of a write that may or may not have happened (resolved by reading back).
IN_DOUBT: frozenset[OpStatus] = frozenset({"sending", "in_doubt"})
#: States an operation never leaves (no request is sent for it again).
FINAL: frozenset[OpStatus] = frozenset(
    {"applied", "unchanged", "conflict", "deleted", "already_absent"}
)
_REPORTED: dict[OpStatus, OpStatus] = {
    "planned": "not_attempted",
    "sending": "failed",
    "in_doubt": "failed",
}
#: Every status a result reports, in display order.
STATUSES: tuple[OpStatus, ...] = tuple(s for s in get_args(OpStatus) if s not in _REPORTED)
#: ``error_type`` of the outcomes a worker decides rather than the API raises.
ERROR_TYPES: dict[OpStatus, str] = {"conflict": "Conflict", "failed": "Interrupted"}


def reported(state: OpStatus) -> OpStatus:
    """The status a result reports for a journal state.

    Example:
        >>> reported("in_doubt"), reported("applied")
        ('failed', 'applied')
    """
    return _REPORTED.get(state, state)


def fingerprint_of(kind: str, content: Any) -> str:
    """sha256 of the canonical JSON of a plan's content."""
    text = json.dumps([kind, content], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PlanBase(ABC):
    """The surface every plan shares (see the module notes).

    A subclass names its ``kind``, file ``FORMAT`` and ``VERSION``, says what was not done
    when its file is refused (``NOTHING``), and implements :meth:`content` (what the
    fingerprint covers), :meth:`_payload` (its part of the file), :meth:`_from_file`,
    :attr:`videos`, :meth:`summary` and :meth:`to_frame`.
    """

    kind: ClassVar[str]
    FORMAT: ClassVar[str]
    VERSION: ClassVar[int]
    #: Said when a saved plan is refused: nothing was sent (or deleted).
    NOTHING: ClassVar[str] = "nothing was sent"

    fingerprint: str
    labels: dict[str, str]

    # -- what a plan is -----------------------------------------------------------------------

    @abstractmethod
    def content(self) -> Any:
        """What the fingerprint covers (the operations and the titles shown in review)."""

    @property
    @abstractmethod
    def videos(self) -> tuple[str, ...]:
        """The video ids of the plan, in order."""

    @abstractmethod
    def summary(self) -> dict[str, Any]:
        """Counts for people."""

    @abstractmethod
    def to_frame(self) -> pd.DataFrame:
        """The plan as a frame, for review."""

    def _fingerprint(self) -> str:
        return fingerprint_of(self.kind, self.content())

    def __len__(self) -> int:
        return len(self.videos)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.videos)

    @property
    def changes_present(self) -> bool:
        """True exactly when the plan has at least one operation."""
        return len(self) > 0

    # -- the file -----------------------------------------------------------------------------

    @abstractmethod
    def _payload(self) -> dict[str, Any]:
        """This kind's part of the file (besides format, version and fingerprint)."""

    @classmethod
    @abstractmethod
    def _from_file(cls, data: Any) -> Self:
        """The plan a parsed file describes, every part checked (InputError otherwise)."""

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (what :meth:`save` writes)."""
        head = {"format": self.FORMAT, "version": self.VERSION, "fingerprint": self.fingerprint}
        return {**head, **self._payload()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a plan from :meth:`to_dict`; every part is checked (see
        :mod:`dmtools.bulk._planfile`) and the content must match its fingerprint.

        Raises:
            InputError: a malformed file, or one modified since it was saved.
        """
        plan = cls._from_file(data)
        if data.get("fingerprint") != plan.fingerprint:
            raise InputError(
                f"the saved {cls.kind} plan does not match its fingerprint (it was modified); "
                f"{cls.NOTHING}"
            )
        return plan

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the plan as JSON (atomically, 0600); :meth:`load` gives back exactly these
        actions, and refuses a file edited since (its fingerprint would not match).

        Example:
            >>> plan.save("retitle.plan.json")                      # doctest: +SKIP
        """
        from dmtools.bulk._files import write_json_atomic

        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a plan written by :meth:`save` (InputError for anything else).

        Example:
            >>> dm.EditPlan.load("retitle.plan.json").apply(client)  # doctest: +SKIP
        """
        from dmtools.bulk._planfile import read_plan_file

        return cls.from_dict(read_plan_file(path))

    # -- display ------------------------------------------------------------------------------

    def __repr__(self) -> str:
        from dmtools.bulk.render import plan_text

        return plan_text(self)

    def _repr_html_(self) -> str:
        from dmtools.bulk.render import plan_html

        return plan_html(self)
