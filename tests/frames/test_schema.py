"""The shared field table validates values the same way for client and sandbox."""

from __future__ import annotations

import pytest

from dmtools import schema


def test_there_are_17_categories_and_channel_accepts_only_them() -> None:
    assert len(schema.CATEGORIES) == 17
    assert schema.check_value("channel", "music") is None
    assert "not a category" in (schema.check_value("channel", "cooking") or "")


@pytest.mark.parametrize(
    ("name", "value", "limits", "ok"),
    [
        ("title", "x" * 100, schema.LIMITS_PUBLIC, True),
        ("title", "x" * 101, schema.LIMITS_PUBLIC, False),
        ("title", "x" * 150, schema.LIMITS_PARTNER, True),
        ("description", "x" * 3001, schema.LIMITS_PUBLIC, False),
        ("description", None, schema.LIMITS_PUBLIC, True),
        ("title", None, schema.LIMITS_PUBLIC, False),
        ("title", "   ", schema.LIMITS_PUBLIC, False),
        ("tags", ["a"] * 150, schema.LIMITS_PUBLIC, True),
        ("tags", ["a"] * 151, schema.LIMITS_PUBLIC, False),
        ("tags", ["x" * 51], schema.LIMITS_PUBLIC, False),
        ("language", "fr", schema.LIMITS_PUBLIC, True),
        ("language", "french", schema.LIMITS_PUBLIC, False),
        ("country", "FR", schema.LIMITS_PUBLIC, True),
        ("country", "France", schema.LIMITS_PUBLIC, False),
        ("private", True, schema.LIMITS_PUBLIC, True),
        ("private", "yes", schema.LIMITS_PUBLIC, False),
        ("views_total", 3, schema.LIMITS_PUBLIC, False),
        ("nonsense", 3, schema.LIMITS_PUBLIC, False),
    ],
)
def test_check_value(name: str, value: object, limits: schema.FieldLimits, ok: bool) -> None:
    assert (schema.check_value(name, value, limits) is None) is ok


def test_parse_bool_follows_the_api_rules() -> None:
    for text in ("1", "true", "YES", "on", True):
        assert schema.parse_bool(text) is True
    for text in ("0", "false", "No", "off", False):
        assert schema.parse_bool(text) is False
    with pytest.raises(ValueError):
        schema.parse_bool("maybe")


def test_default_fields_are_known_and_include_the_id_first() -> None:
    assert schema.DEFAULT_VIDEO_FIELDS[0] == "id"
    assert schema.unknown_fields(schema.DEFAULT_VIDEO_FIELDS) == []
    assert schema.unknown_fields(["title", "dislikes_total"]) == ["dislikes_total"]
    assert schema.VIDEO_FIELDS["owner.screenname"].column == "owner_screenname"
    assert set(schema.EDITABLE_VIDEO_FIELDS) >= {
        "title",
        "description",
        "tags",
        "channel",
        "private",
    }
