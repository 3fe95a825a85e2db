"""Behaviours the sources leave open, each switchable at run time (no HTTP)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from dmtools.schema import LIMITS_PARTNER, LIMITS_PUBLIC, LIST_CEILING, FieldLimits

#: Largest value an integer setting takes (seconds, counts).
MAX_SETTING = 2**53


@dataclass
class Settings:
    """Behaviours the sources leave open; each can be switched at run time (admin API).

    Attributes:
        token_lifetime: ``expires_in`` of new access tokens, seconds.
        rotate_refresh_tokens: a refresh token works once; reusing it revokes its family.
        pkce_required: the consent page refuses requests without an S256 ``code_challenge``.
        strict_hosts: private-key tokens only work under ``/rest``, public-key tokens only
            outside it (as on the two real hosts).
        code_lifetime: seconds an authorization code stays valid.
        list_ceiling: results reachable per list query (``page * limit``).
        delete_body: ``"id"`` answers ``{"id": xid}`` to a delete, ``"empty"`` answers ``{}``.
        token_errors_as_200: token endpoint errors come with HTTP 200 (as some servers do).
        multicall: ``POST /`` serves call envelopes (one call or a multi-call array); off,
            it answers 404 ``not_found`` as a server without multi-call does.
        etag_mode: ``GET /video/<id>`` sends an ``ETag`` (the video's version) and edits and
            deletes with a stale ``If-Match`` get 412 ``precondition_failed``.
        title_max, description_max, tags_max, tag_length: public-key field limits; partner
            keys get ``partner_title_max`` and ``partner_description_max``. API v2 uses
            ``tags_max`` and ``tag_length`` for tags and hashtags too.

    API v2 (``v2_*``):
        v2_token_lifetime: ``expires_in`` of v2 access tokens, seconds.
        v2_anonymous_reads: lists and video reads without a token show public videos (off:
            every v2 API call needs a token).
        v2_validation_status: 400 or 422 for invalid or missing body fields.
        v2_total: ``pagination.total`` is the ``"exact"`` count, ``"capped"`` at the result
            ceiling, or ``"null"``.
        v2_delete_missing: the status (204 or 404) of deleting a video that is not there.
        v2_strict_categories: only the documented categories (15 and ``kids``) are accepted
            (off: any category name, as real clients rely on).
        v2_title_max, v2_description_max: text limits.
        v2_processing_seconds: a created or re-sourced video's encoding takes this long.
        v2_daily_uploads, v2_daily_upload_seconds: videos and seconds of video a profile may
            create per rolling 24 hours; premium profiles (verified users) get
            ``v2_premium_daily_uploads`` and no duration limit.
        v2_max_video_seconds, v2_max_video_bytes: per-video limits (premium profiles: no
            duration limit, ``v2_premium_max_video_bytes``).

    Reporting API (``report_*``) and partner tokens:
        strict_partner_scopes: unknown scope names on ``/oauth/v1/token`` are
            ``invalid_scope`` (off: they are ignored, as working clients expect).
        report_delay: seconds (sandbox clock) a report stays ``IN_PROGRESS``.
        report_lifetime: seconds (sandbox clock) after which a report is ``EXPIRED``.
        report_max_in_progress: reports of one API key ``IN_PROGRESS`` at once.
        report_max_days, report_max_dimensions: the limits of one report.
        report_file_rows: rows per CSV file of a report (more rows: more files).
        report_scope_check: earnings and ad metrics need ``access_revenue`` /
            ``access_ads`` in the token's scopes too (off: the key's permissions decide).
        report_v2_tokens: tokens carrying ``analytics.manage`` (API v2) may use reports.

    Example:
        >>> settings = Settings()
        >>> settings.update({"token_lifetime": 60})
        >>> settings.token_lifetime
        60
    """

    token_lifetime: int = 36000
    rotate_refresh_tokens: bool = False
    pkce_required: bool = False
    strict_hosts: bool = True
    code_lifetime: int = 600
    list_ceiling: int = LIST_CEILING
    delete_body: str = "id"
    token_errors_as_200: bool = False
    etag_mode: bool = False
    multicall: bool = True
    title_max: int = LIMITS_PUBLIC.title
    description_max: int = LIMITS_PUBLIC.description
    partner_title_max: int = LIMITS_PARTNER.title
    partner_description_max: int = LIMITS_PARTNER.description
    tags_max: int = LIMITS_PUBLIC.tags
    tag_length: int = LIMITS_PUBLIC.tag_length
    strict_partner_scopes: bool = False
    report_delay: int = 5
    report_lifetime: int = 48 * 3600
    report_max_in_progress: int = 2
    report_max_days: int = 180
    report_max_dimensions: int = 8
    report_file_rows: int = 100_000
    report_scope_check: bool = False
    report_v2_tokens: bool = True

    # API v2
    v2_token_lifetime: int = 1800
    v2_anonymous_reads: bool = True
    v2_validation_status: int = 400
    v2_total: str = "exact"
    v2_delete_missing: int = 204
    v2_strict_categories: bool = False
    v2_title_max: int = 255
    v2_description_max: int = 3000
    v2_processing_seconds: int = 2
    v2_daily_uploads: int = 15
    v2_daily_upload_seconds: int = 10 * 3600
    v2_premium_daily_uploads: int = 96
    v2_max_video_seconds: int = 2 * 3600
    v2_max_video_bytes: int = 4 << 30
    v2_premium_max_video_bytes: int = 64 << 30

    #: Settings that take one of a few values.
    CHOICES: ClassVar[dict[str, tuple[Any, ...]]] = {
        "delete_body": ("id", "empty"),
        "v2_total": ("exact", "capped", "null"),
        "v2_validation_status": (400, 422),
        "v2_delete_missing": (204, 404),
    }

    def limits(self, partner: bool) -> FieldLimits:
        """The field limits of a private (``partner``) or public key."""
        if partner:
            return FieldLimits(
                self.partner_title_max, self.partner_description_max, self.tags_max, self.tag_length
            )
        return FieldLimits(self.title_max, self.description_max, self.tags_max, self.tag_length)

    def update(self, values: Mapping[str, Any]) -> None:
        """Set the named settings, checking names and types (nothing is set on error).

        Raises:
            ValueError: an unknown name or a value of the wrong type, naming the setting.
        """
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            current = getattr(self, name)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"setting {name!r} takes true or false")
            elif isinstance(current, int):
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or not 0 <= value <= MAX_SETTING
                ):
                    raise ValueError(
                        f"setting {name!r} takes an integer between 0 and {MAX_SETTING}"
                    )
            choices = self.CHOICES.get(name)
            if choices is not None and value not in choices:
                raise ValueError(
                    f"setting {name!r} is one of {', '.join(repr(c) for c in choices)}"
                )
        for name, value in values.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
