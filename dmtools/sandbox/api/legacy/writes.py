"""Legacy write parameters: which ones a create or an edit accepts, and how they parse.

Values are validated with :func:`dmtools.schema.check_value` and the limits of the key in use
(public or partner), so the sandbox refuses exactly what the client's own validation refuses.
The rules that hold for every dialect (publishing needs a title, a channel and
``is_created_for_kids``; ``explicit`` cannot be unset) are in :mod:`dmtools.sandbox.state.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from dmtools.sandbox.api.legacy.errors import invalid_parameter
from dmtools.schema import VIDEO_FIELDS, FieldLimits, check_value, parse_bool

#: Parameters valid on every call (never written).
GLOBAL_PARAMS = frozenset(
    {
        "access_token",
        "fields",
        "family_filter",
        "localization",
        "ams_country",
        "context",
        "device_filter",
        "ssl_assets",
        "thumbnail_ratio",
        "callback",
    }
)
_KEEP_EMPTY = ("title", "description")


def split_list(value: Any) -> list[Any]:
    """An array parameter: a JSON list as is, or a comma-separated string."""
    if isinstance(value, list | tuple):
        return list(value)
    return [part.strip() for part in str(value).split(",") if part.strip()]


def coerce(name: str, raw: Any) -> Any:
    """The Python value of a written parameter (before :func:`check_value`)."""
    spec = VIDEO_FIELDS[name]
    if raw is None:
        return None
    if spec.kind == "boolean":
        try:
            return parse_bool(raw)
        except ValueError:
            raise invalid_parameter(
                name,
                f"Invalid value for `{name}': {raw!r} is not a boolean "
                "(use true/false, 1/0 or yes/no).",
            ) from None
    if spec.kind == "array":
        return split_list(raw)
    if isinstance(raw, str) and raw == "" and name not in _KEEP_EMPTY:
        return None
    return raw


def check_source_url(value: Any) -> str:
    """The video source URL of a write: an http(s) URL with a valid host and port."""
    text = str(value or "").strip()
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        valid = valid and (parts.port is None or parts.port > 0)  # .port checks the range
    except ValueError:
        valid = False
    if not valid:
        raise invalid_parameter(
            "url",
            "Invalid value for `url': an http(s) URL is required "
            "(the `url' returned by the upload).",
        )
    return text


def parse_writes(params: Mapping[str, Any], limits: FieldLimits) -> dict[str, Any]:
    """Validated ``{field: value}`` of a create/edit call (``url`` is the video source).

    Raises:
        ApiError: 400 ``invalid_parameter`` naming the first bad field.
    """
    written: dict[str, Any] = {}
    for name, raw in params.items():
        if name in GLOBAL_PARAMS:
            continue
        if name == "url":
            written["url"] = check_source_url(raw)
            continue
        if name not in VIDEO_FIELDS:
            raise invalid_parameter(name, f"Unknown parameter `{name}'.")
        if isinstance(raw, list) and VIDEO_FIELDS[name].kind != "array":
            raise invalid_parameter(
                name, f"Invalid value for `{name}': a single value is expected."
            )
        value = coerce(name, raw)
        problem = check_value(name, value, limits)
        if problem:
            raise invalid_parameter(name, f"Invalid value for `{name}': {problem}.")
        written[name] = value
    return written


def to_columns(written: Mapping[str, Any]) -> dict[str, Any]:
    """API field names to stored column names (``url`` is stored as ``source_url``)."""
    return {("source_url" if k == "url" else k): v for k, v in written.items()}
