"""A plan under review writes only through its review panel.

When a plan is shown in :func:`dmtools.review_panel`, the panel holds it: from then on
``plan.apply(...)`` in code refuses (an :class:`~dmtools.errors.InputError`, nothing sent)
with a sentence saying what happened in the panel: still waiting for confirmation,
cancelled, being applied, stopped or done. Only the panel's own job, after its confirmation
(Apply, or the typed count for deletes), applies the plan. A notebook cell after a panel
can therefore never write behind the panel's back, whether it runs by Run All, after
Cancel, or without the count typed. A dry run (``DeletePlan.apply`` without ``confirm``)
sends nothing and stays allowed.

To apply the same changes from code on purpose, build the plan again (or take a copy with
``plan.select(...)``/``plan.drop(...)``): that plan is not under review.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dmtools.errors import InputError

__all__ = ["Review", "check_apply", "hold", "panel_job"]

_LOCAL = threading.local()

_REFUSALS = {
    "review": "this {kind} plan is waiting in its review panel: confirm it there with {button}",
    "cancelled": "this {kind} plan was cancelled in its review panel",
    "applying": "its review panel is applying this {kind} plan now",
    "stopped": "its review panel stopped this {kind} plan part way: resume it with the "
    "panel's Resume button",
    "failed": "the review panel's run of this {kind} plan ended with an error (see the panel)",
    "done": "its review panel applied this {kind} plan: the result is panel.result",
    "finished": "this {kind} plan was already carried out, as its journal says (see its "
    "review panel, which offers to apply it again)",
}


class Review:
    """The review state a panel keeps for a plan (``state`` mirrors the panel's)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.state = "review"

    def refusal(self) -> str:
        button = "Delete, after typing the number of videos" if self.kind == "delete" else "Apply"
        reason = _REFUSALS.get(self.state, _REFUSALS["review"])
        return (
            f"Not applied: {reason.format(kind=self.kind, button=button)}. Nothing was sent. "
            "To apply the same changes from code on purpose, build the plan again."
        )


def hold(plan: Any, review: Review) -> None:
    """Put ``plan`` under ``review`` (its panel); a later panel replaces an earlier one."""
    plan._review = review


def check_apply(plan: Any) -> None:
    """Refuse to apply a plan held by a review panel, unless the panel's own job applies it.

    Raises:
        InputError: the plan is under review (nothing is sent).
    """
    review = getattr(plan, "_review", None)
    if review is None or getattr(_LOCAL, "review", None) is review:
        return
    raise InputError(review.refusal())


@contextmanager
def panel_job(review: Review) -> Iterator[None]:
    """Within this block, on this thread, the plan held by ``review`` may be applied."""
    previous = getattr(_LOCAL, "review", None)
    _LOCAL.review = review
    try:
        yield
    finally:
        _LOCAL.review = previous
