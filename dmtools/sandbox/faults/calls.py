"""Faults inside a multi-call request: the rules apply to each call it carries.

A legacy multi-call (``POST /`` with a JSON array) carries several API calls in one HTTP
request. :class:`~dmtools.sandbox.faults.middleware.FaultMiddleware` puts a
:class:`CallFaults` in the request's environ; the multi-call runner asks it about each call
(method and path, e.g. ``POST /video/x8abc``), so that a rule written for single calls fires
on the same calls when they travel in a batch, counted the same way:

* ``status``: that call's answer in the array is the error (``after_commit``: the call runs
  first); the other calls of the batch run as usual;
* ``reset``: the calls before it ran; this one runs too with ``after_commit``; the calls
  after it do not run, and the connection is reset (the client loses the whole answer);
* ``hold`` and ``truncate``: every call runs, then the whole answer is held or truncated.

Every fault is logged with ``call`` (its position in the batch, from 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dmtools.sandbox.api.errors import ApiError

if TYPE_CHECKING:
    from dmtools.sandbox.faults.controller import FaultController, _State
    from dmtools.sandbox.faults.rules import Rule

__all__ = ["CALL_FAULTS", "CallFault", "CallFaults"]

#: The environ key holding the request's :class:`CallFaults`.
CALL_FAULTS = "dmtools.sandbox.call_faults"


@dataclass(frozen=True)
class CallFault:
    """The fault of one call of a batch: its rule and its log entry."""

    rule: Rule
    entry: dict[str, Any]

    @property
    def runs_first(self) -> bool:
        """The call runs (its write commits) before the fault; hold and truncate always."""
        return self.rule.after_commit or self.rule.kind in ("hold", "truncate")

    def error(self) -> ApiError:
        """The error answer of a ``status`` fault."""
        opts = self.rule.options
        return ApiError(opts["status"], opts["type"], opts["message"], opts["error_data"])


@dataclass
class CallFaults:
    """The fault decisions of one multi-call request (see the module notes)."""

    controller: FaultController
    state: _State
    #: The connection fault (reset, hold, truncate) the whole answer gets, if one fired.
    whole: CallFault | None = None
    logged: list[dict[str, Any]] = field(default_factory=list)

    def pick(self, index: int, method: str, path: str) -> CallFault | None:
        """The fault of call ``index`` (``method path``), or None; a status fault is logged
        here, a connection fault is kept in :attr:`whole` for the middleware."""
        picked = self.controller._pick(self.state, method, path)
        if picked is None:
            return None
        rule, n = picked
        entry: dict[str, Any] = {
            "time": 0.0,
            "method": method,
            "path": path,
            "call": index,
            "kind": rule.kind,
            "after_commit": rule.after_commit,
            "rule": rule.index,
            "n": n,
        }
        if rule.name is not None:
            entry["name"] = rule.name
        fault = CallFault(rule, entry)
        if rule.kind == "status":
            entry["status"] = rule.options["status"]
            self.controller._record(entry)
        elif self.whole is None:
            self.whole = fault
        else:
            return None  # one connection fault per request: the first one wins
        return fault

    @property
    def stops(self) -> bool:
        """A reset fired: the calls after it do not run."""
        return self.whole is not None and self.whole.rule.kind == "reset"
