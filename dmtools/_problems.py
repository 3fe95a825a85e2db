"""Many problems, readable: grouped by column and kind of reason, with counts.

One repeated mistake (179 titles too long) must not hide the others (one bad category): past
20 problems, :class:`~dmtools.errors.InputError` and the command list groups instead of rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dmtools.errors import Problem

__all__ = ["ProblemGroup", "group_problems", "problem_lines"]


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d[\d,.]*")


@dataclass(frozen=True)
class ProblemGroup:
    """Problems of one column with the same kind of reason (numbers and quoted values
    aside): how many, an example reason, and the rows."""

    column: str | None
    example: str
    count: int
    rows: tuple[str | None, ...]

    def __str__(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        rows = [r for r in self.rows if r is not None]
        shown = f" (rows {', '.join(rows[:5])}{' …' if len(rows) > 5 else ''})" if rows else ""
        return f"{where}{self.count:,} × {self.example}{shown}"


def group_problems(problems: Sequence[Problem]) -> list[ProblemGroup]:
    """Problems grouped by column and kind of reason, the largest group first.

    Example:
        >>> [str(g) for g in group_problems(exc.problems)][:1]          # doctest: +SKIP
        ["column 'title': 179 × 120 characters; the limit is 100 (rows x1, x2, …)"]
    """
    groups: dict[tuple[str | None, str], list[Problem]] = {}
    for problem in problems:
        kind = _NUMBER.sub("N", _QUOTED.sub("'…'", problem.reason))
        groups.setdefault((problem.column, kind), []).append(problem)
    found = [
        ProblemGroup(column, items[0].reason, len(items), tuple(p.row for p in items))
        for (column, _), items in groups.items()
    ]
    return sorted(found, key=lambda g: -g.count)


def problem_lines(problems: Sequence[Problem], most: int = 20) -> list[str]:
    """Lines listing ``problems``: each one when there are at most ``most``, else grouped by
    column and reason with counts (so one repeated mistake does not hide the others)."""
    if len(problems) <= most:
        return [f"  - {p}" for p in problems]
    groups = group_problems(problems)
    lines = [f"  {len(problems):,} problems in {len(groups):,} group(s), by column and reason:"]
    lines += [f"  - {g}" for g in groups[:most]]
    if len(groups) > most:
        lines.append(f"  ... and {len(groups) - most:,} more group(s)")
    return lines
