"""Request and response helpers shared by every dialect: bodies, JSON in and out.

:func:`parse_json` is the one JSON parser for request bodies. It accepts only what every
handler can take without surprise: UTF-8 text, at most :data:`MAX_DEPTH` levels of nesting,
no ``NaN``/``Infinity`` (nor numbers that overflow to them), integers within 64 bits, no
lone surrogates (which no encoder or database can store) and no duplicate object keys (which
parsers read differently). Anything else is a :class:`JsonError` naming the reason, which the
caller turns into the API's 400.

Example:
    >>> parse_json(b'{"title": "a"}')
    {'title': 'a'}
    >>> parse_json(b'{"title": NaN}')
    Traceback (most recent call last):
    ...
    dmtools.sandbox.api.wire.JsonError: NaN is not a JSON number
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import orjson
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api.errors import invalid_body

#: Largest request body (uploads excepted), bytes.
MAX_BODY = 1 << 20
#: Deepest nesting of arrays and objects a JSON body may have.
MAX_DEPTH = 64
#: The WSGI environ key where a route records the API key it served (for the request log).
CLIENT_KEY = "dmtools.sandbox.client_id"

_INT64 = (-(2**63), 2**63 - 1)
#: Dict keys that are not strings are written as the standard library writes them; the
#: types the standard library refuses go to it (so it refuses them as it always did).
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
)


class JsonError(ValueError):
    """A request body is not acceptable JSON; the message says why."""


def _constant(name: str) -> Any:
    raise JsonError(f"{name} is not a JSON number")


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:24] + "..."


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonError(f"the number {_short(text)} is out of range")
    return value


def _int(text: str) -> int:
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise JsonError(f"the integer {_short(text)} is out of range (64 bits)")
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonError(f"the key {_short(key)!r} appears twice in one object")
            seen.add(key)
    return out


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise JsonError("a string holds a lone surrogate (\\ud800-\\udfff)") from None


def _check_tree(value: Any) -> None:
    """Depth and strings of a parsed value, walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise JsonError(f"nested more than {MAX_DEPTH} levels deep")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def parse_json(raw: bytes) -> Any:
    """The value of a JSON request body.

    Raises:
        JsonError: not UTF-8, not JSON, or outside the limits above (the message says which).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonError("the body is not UTF-8 text") from None
    try:
        value = json.loads(
            text,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
            object_pairs_hook=_pairs,
        )
    except JsonError:
        raise
    except RecursionError:
        raise JsonError(f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise JsonError(f"not valid JSON ({str(exc)[:80]})") from None
    _check_tree(value)
    return value


def read_json(request: Request) -> Any:
    """The JSON body of a request (None when empty).

    Raises:
        ApiError: 400 ``invalid_parameter`` naming why the body is refused.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return parse_json(raw)
    except JsonError as exc:
        raise invalid_body(f"Malformed JSON body: {exc}.") from None


def dumps(data: Any) -> bytes:
    """``data`` as compact UTF-8 JSON (what the standard library writes with
    ``ensure_ascii=False``), always valid: a non-finite float is written as null.

    orjson writes it; what orjson refuses (integers beyond 64 bits, deep nesting, lone
    surrogates, dataclasses, dates, sets...) goes through the standard library, so its answer
    or its error is the same as ever. Floats keep their value (``1e-07`` may read ``1e-7``).

    Example:
        >>> dumps({"title": "café", "n": [1, 2.5, None], "x": float("nan")})
        b'{"title":"caf\\xc3\\xa9","n":[1,2.5,null],"x":null}'
    """
    try:
        return orjson.dumps(data, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        pass
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        if "JSON compliant" not in str(exc):
            raise
        text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer (UTF-8, compact) with extra ``headers``."""
    response = Response(dumps(data), status=status, content_type="application/json; charset=utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten(multi: MultiDict[str, Any]) -> dict[str, Any]:
    """A MultiDict as a dict: one value as is, repeated keys as a list."""
    out: dict[str, Any] = {}
    for key in multi:
        values = multi.getlist(key)
        out[key] = values[0] if len(values) == 1 else list(values)
    return out


def if_match_version(header: str | None) -> int | None:
    """The video version an ``If-Match`` header asks for (None: unconditional; -1: none).

    Example:
        >>> if_match_version('"3"'), if_match_version("*"), if_match_version('"x"')
        (3, None, -1)
    """
    wanted = str(header or "").strip()
    if not wanted or wanted == "*":
        return None
    try:
        return int(wanted.removeprefix("W/").strip('"'))
    except ValueError:
        return -1  # matches no version
