"""``POST /`` call envelopes: one ``{call, args, id}`` object, or an array of at most 10.

Each call is ``"METHOD /path"`` (GET when the method is omitted; a query string in the path is
merged into ``args``) and answers ``{"id", "result"}`` or ``{"id", "error"}``. The access token
of the HTTP request applies to every call; an invalid token fails the whole request with 401.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.legacy.calls import Call, check_values
from dmtools.sandbox.api.legacy.errors import error_body, invalid_parameter, translate
from dmtools.sandbox.api.wire import JsonError, parse_json
from dmtools.sandbox.faults.calls import CallFaults
from dmtools.sandbox.state.errors import StateError

MAX_CALLS = 10
_METHODS = ("GET", "POST", "DELETE")


def parse_body(raw: bytes) -> Any:
    """The envelope of a ``POST /`` body: one call object or a list of 1 to 10."""
    try:
        body = parse_json(raw)
    except JsonError as exc:
        raise invalid_parameter(
            "call",
            'POST / expects a JSON call object {"call": "GET /path",'
            f' "args": {{...}}}} or an array of them ({exc}).',
        ) from None
    if isinstance(body, list):
        if not body:
            raise invalid_parameter("call", "Empty call array.")
        if len(body) > MAX_CALLS:
            raise invalid_parameter(
                "call", f"Too many calls in one request: {len(body)} (at most {MAX_CALLS})."
            )
    elif not isinstance(body, dict):
        raise invalid_parameter("call", "POST / expects a JSON object or array.")
    return body


def to_call(item: Any, template: Call) -> Call:
    if not isinstance(item, dict) or not isinstance(item.get("call"), str):
        raise invalid_parameter("call", 'Each call needs a `call\' string such as "GET /me".')
    words = item["call"].strip().split(None, 1)
    method, target = ("GET", words[0]) if len(words) == 1 else (words[0].upper(), words[1].strip())
    if method not in _METHODS or not target.startswith("/"):
        raise invalid_parameter("call", f'Invalid call {item["call"]!r}: expected "METHOD /path".')
    args = item.get("args") or {}
    if not isinstance(args, dict):
        raise invalid_parameter("args", "`args' must be an object.")
    parts = urlsplit(target)
    path, partner = parts.path, template.partner
    if path == "/rest" or path.startswith("/rest/"):
        path, partner = path[5:] or "/", True
    params: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.update(check_values(args))
    return Call(
        method, path, params, partner, template.base_url, template.principal, template.environ
    )


def run(
    body: Any,
    template: Call,
    dispatch: Callable[[Call], Any],
    faults: CallFaults | None = None,
) -> Any:
    """The answer to a parsed envelope (object → object, array → array); ``faults``
    decides the injected faults of each call of an array (see
    :mod:`dmtools.sandbox.faults.calls`)."""

    def one(index: int, item: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        if isinstance(item, dict) and "id" in item:
            answer["id"] = item["id"]
        try:
            call = to_call(item, template)
            fault = faults.pick(index, call.method, call.path) if faults is not None else None
            if fault is None or fault.runs_first:
                answer["result"] = dispatch(call)
            if fault is not None and fault.rule.kind == "status":
                answer.pop("result", None)
                raise fault.error()
        except (ApiError, StateError) as exc:
            error = translate(exc) if isinstance(exc, StateError) else exc
            answer["error"] = error_body(error)["error"]
        return answer

    if isinstance(body, list):
        answers = []
        for index, item in enumerate(body):
            answers.append(one(index, item))
            if faults is not None and faults.stops:
                break  # a reset: the calls after it do not run
        return answers
    return one(0, body)
