"""Reading plan files: strict JSON and a checked shape, so a damaged or hostile file is bad input.

A plan file is data from outside (made by another program, edited by hand, or crafted): every
value is checked for its type before anything is built from it, and every problem is listed
with its place in the file (``ops[3].changes.title``). What is refused, always with an
:class:`~dmtools.errors.InputError` and never a request:

* text that is not UTF-8 JSON, ``NaN``/``Infinity``, numbers too long to read, nesting too
  deep for the parser, files over :data:`MAX_PLAN_BYTES`;
* a list where an object belongs (or the reverse), a number where text belongs, booleans used
  as counts, negative counts, empty or path-like video ids, unknown or read-only fields.

The fingerprint is checked afterwards by the plan classes: it covers every operation and every
title shown in review, so an edited file is refused.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from dmtools.errors import InputError, Problem

__all__ = [
    "MAX_PLAN_BYTES",
    "PlanShape",
    "check_delete_plan",
    "check_edit_plan",
    "parse_plan_json",
    "read_plan_file",
]

#: Largest plan file read (a plan of 100,000 videos with long descriptions is far smaller).
MAX_PLAN_BYTES = 512 * 1024 * 1024
#: Video ids: letters, digits, ``_`` and ``-`` (never ``/``, ``?``, ``#``, dots or spaces).
VIDEO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_MOST_PROBLEMS = 200


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_plan_json(raw: bytes, name: str) -> Any:
    """The JSON value of a plan file's bytes, or InputError saying why it is not one."""
    if len(raw) > MAX_PLAN_BYTES:
        raise InputError(f"{name} is larger than {MAX_PLAN_BYTES // 2**20} MiB: not a plan file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise InputError(f"{name} nests too deeply: not a plan file") from None
    except ValueError as exc:  # also numbers too long to read, NaN and Infinity
        raise InputError(f"{name} is not valid JSON: {exc}") from None


def read_plan_file(path: str | os.PathLike[str]) -> Any:
    """The JSON value of a plan file (see :func:`parse_plan_json`)."""
    name = repr(os.fspath(path))
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read plan {name}: {exc.strerror or exc}") from None
    return parse_plan_json(raw, f"the plan file {name}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class PlanShape:
    """Checks the parts of a parsed plan file, collecting every problem with its place."""

    def __init__(self, data: Any, what: str) -> None:
        self.what = what
        self.problems: list[Problem] = []
        if not isinstance(data, Mapping):
            raise InputError(f"not a dmtools {what}: the file holds {_kind(data)}, not an object")
        self.data = data

    def bad(self, place: str, reason: str, column: str | None = None) -> None:
        if len(self.problems) < _MOST_PROBLEMS:
            self.problems.append(Problem(place, column, reason))

    def header(self, fmt: str, version: int) -> None:
        """Refuse another format or version before looking further."""
        if self.data.get("format") != fmt:
            raise InputError(f"not a dmtools {self.what} (format {self.data.get('format')!r})")
        found = self.data.get("version")
        if found != version or isinstance(found, bool):
            older = isinstance(found, int) and not isinstance(found, bool) and found < version
            hint = (
                ": it was saved by an older dmtools, whose fingerprint does not cover the "
                "titles; make the plan again"
                if older
                else ""
            )
            raise InputError(f"unsupported {self.what} version {found!r}{hint}")
        if not isinstance(self.data.get("fingerprint"), str):
            self.bad("fingerprint", f"expected text, found {_kind(self.data.get('fingerprint'))}")

    def listed(self, key: str, *, required: bool = True) -> list[Any]:
        value = self.data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.bad(key, f"expected a list, found {_kind(value)}")
            return []
        return value

    def mapping(self, place: str, value: Any, *, required: bool = False) -> dict[str, Any]:
        if value is None and not required:
            return {}
        if not isinstance(value, Mapping):
            self.bad(place, f"expected an object, found {_kind(value)}")
            return {}
        return dict(value)

    def count(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.bad(key, f"expected a count (a whole number >= 0), found {value!r}"[:120])
            return None
        return value

    def texts(self, key: str) -> list[str]:
        values = self.listed(key, required=False)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                self.bad(f"{key}[{i}]", f"expected text, found {_kind(value)}")
        return [v for v in values if isinstance(v, str)]

    def labels(self) -> dict[str, str]:
        found = self.mapping("labels", self.data.get("labels"))
        for vid, title in found.items():
            if not isinstance(title, str):
                self.bad(f"labels.{vid}"[:80], f"expected a title (text), found {_kind(title)}")
        return {k: v for k, v in found.items() if isinstance(v, str)}

    def video_id(self, place: str, value: Any) -> str | None:
        if isinstance(value, str) and VIDEO_ID.fullmatch(value):
            return value
        shown = repr(value)[:40] if isinstance(value, str) else _kind(value)
        self.bad(place, f"expected a video id (letters, digits, _ or -), found {shown}")
        return None

    def done(self) -> None:
        if self.problems:
            more = "" if len(self.problems) < _MOST_PROBLEMS else " (the first ones)"
            raise InputError(
                f"the {self.what} file is malformed{more}; nothing was sent", self.problems
            )


EditContent = tuple[dict[str, dict[str, tuple[Any, Any]]], dict[str, str], int, list[str]]


def _is_value(value: Any) -> bool:
    if value is None or isinstance(value, str | bool):
        return True
    return isinstance(value, list) and all(isinstance(t, str) for t in value)


def _edit_op(shape: PlanShape, i: int, raw: Any, changes: dict[str, Any]) -> None:
    from dmtools.schema import VIDEO_FIELDS

    place = f"ops[{i}]"
    if not isinstance(raw, Mapping):
        shape.bad(place, f"expected an operation (an object), found {_kind(raw)}")
        return
    op_id = raw.get("op_id")
    if op_id is not None and (isinstance(op_id, bool) or not isinstance(op_id, int)):
        shape.bad(place, f"op_id: expected a whole number, found {_kind(op_id)}")
    vid = shape.video_id(f"{place}.video_id", raw.get("video_id"))
    fields = shape.mapping(f"{place}.changes", raw.get("changes"), required=True)
    if not fields and isinstance(raw.get("changes"), Mapping):
        shape.bad(f"{place}.changes", "an operation changes at least one field")
    if vid is not None and vid in changes:
        shape.bad(f"{place}.video_id", f"video {vid} has two operations")
    for name, pair in fields.items():
        spec = VIDEO_FIELDS.get(name)
        if spec is None or not spec.editable:
            shape.bad(f"{place}.changes", "not an editable video field", str(name)[:60])
        elif not (isinstance(pair, list) and len(pair) == 2 and all(map(_is_value, pair))):
            shape.bad(
                f"{place}.changes",
                "expected [old, new] values (text, true/false, a list of tags, or null)",
                name,
            )
        elif vid is not None:
            changes.setdefault(vid, {})[name] = (pair[0], pair[1])


def check_edit_plan(data: Any, fmt: str, version: int) -> EditContent:
    """(changes, labels, unchanged_rows, notes) of a parsed edit plan file, every part checked.

    Raises:
        InputError: listing every malformed part with its place in the file.
    """
    shape = PlanShape(data, "edit plan")
    shape.header(fmt, version)
    changes: dict[str, dict[str, tuple[Any, Any]]] = {}
    for i, raw in enumerate(shape.listed("ops")):
        _edit_op(shape, i, raw, changes)
    labels = shape.labels()
    unchanged = shape.count("unchanged_rows")
    notes = shape.texts("notes")
    shape.done()
    return changes, labels, unchanged or 0, notes


def check_delete_plan(
    data: Any, fmt: str, version: int
) -> tuple[list[str], int | None, dict[str, str]]:
    """(video_ids, snapshot_rows, labels) of a parsed delete plan file, every part checked.

    Raises:
        InputError: listing every malformed part with its place in the file.
    """
    shape = PlanShape(data, "delete plan")
    shape.header(fmt, version)
    ids = [
        vid
        for i, raw in enumerate(shape.listed("video_ids"))
        if (vid := shape.video_id(f"video_ids[{i}]", raw)) is not None
    ]
    rows = shape.count("snapshot_rows")
    labels = shape.labels()
    shape.done()
    return ids, rows, labels
