"""What the Reporting API offers: enum values, the metric/dimension matrix, permissions, and
the GraphQL schema of the operations reports use. Shared by the client (:mod:`dmtools.analytics`)
and the sandbox, as :mod:`dmtools.schema` is for videos; it depends on nothing.

The names are those of Dailymotion's GraphQL schema (``PartnerReportMetric``,
``PartnerReportDimension``, ...). :data:`COMPATIBLE` holds the metrics the sandbox *serves*:
the audience, upload, live, revenue and main ad metrics; the schema's other values
(bandwidth, storage, transcoding, AI credits, ...) are valid names that the sandbox refuses
with the reason ``unsupported_metric``. A dimension no served metric supports
(``ACCOUNT_ID``, ``MINUTE``, ...) is therefore always an ``incompatible_metric_dimension``
there.

The matrix follows the documented compatibility table (:data:`DOCUMENTED_METRICS` are the
metrics whose row the documentation gives); where the copy of the docs is cut (the end of
the revenue row) it assumes ``VISITOR_SUBDOMAIN``, ``VISITOR_COUNTRY`` and
``VISITOR_DEVICE_TYPE``; the undocumented ad rows allow the time dimensions only.

Example:
    >>> "HOUR" in COMPATIBLE["VIEWS"], "HOUR" in COMPATIBLE["ESTIMATED_EARNINGS_EUR"]
    (True, False)
    >>> is_count("VIEWS"), is_count("VIEW_THROUGH_RATE"), is_count("ESTIMATED_EARNINGS_EUR")
    (True, False, False)
"""

from __future__ import annotations

#: Every value of the schema's ``PartnerReportMetric`` enum (plus ``AVERAGE_WATCH_TIME_SEC``).
METRICS: tuple[str, ...] = (
    *("AD_ERRORS AD_VIEW_COMPLETED AD_VIEW_NOT_COMPLETED AI_USED_CREDITS".split()),
    *("BANDWIDTH_USED_LIVE_BYTES BANDWIDTH_USED_LIVE_SECONDS BANDWIDTH_USED_MEDIA_COUNT".split()),
    *("BANDWIDTH_USED_TOTAL_BYTES BANDWIDTH_USED_VOD_BYTES BANDWIDTH_USED_VOD_SECONDS".split()),
    *("ECPM_EUR ECPM_USD ERPM_EUR ERPM_USD ESTIMATED_EARNINGS_EUR".split()),
    *("ESTIMATED_EARNINGS_EUR_OLD ESTIMATED_EARNINGS_USD ESTIMATED_EARNINGS_USD_OLD".split()),
    *("FILL_RATE GDPR_EMPTY_CONSENT_INVENTORY GDPR_ERROR_CONSENT_INVENTORY".split()),
    *("GDPR_FULL_CONSENT_INVENTORY GDPR_FULL_CONSENT_SCORE GDPR_OTHER_CONSENT_INVENTORY".split()),
    *("GDPR_REFUSE_CONSENT_INVENTORY HIGH_VIEWABLE_IMPRESSIONS IMPRESSIONS".split()),
    *("INVALID_TRAFFIC_INVENTORY IVT_SCORE LIVE_TIME_WATCHED_SECONDS LIVE_VIEWERS".split()),
    *("LOW_VIEWABLE_IMPRESSIONS NB_IMPRESSION NB_INVENTORY_GDPR_MISSING_FULL_CONSENT".split()),
    *("NB_MISSED_IMPRESSION NB_P1_IMPRESSION NO_ADS NO_ADS_TXT_INVENTORY NO_AD_RATE".split()),
    *("NO_BRANDSAFE_INVENTORY NO_FILLS NO_MONETIZED_INVENTORY SELLABLE_INVENTORY".split()),
    *("STORAGE_LIFETIME_USED_BYTES STORAGE_LIFETIME_USED_MEDIA_COUNT".split()),
    *("STORAGE_LIFETIME_USED_RENDITION_COUNT STORAGE_LIFETIME_USED_SECONDS".split()),
    *("STORAGE_USED_BYTES STORAGE_USED_MEDIA_COUNT STORAGE_USED_RENDITION_COUNT".split()),
    *("STORAGE_USED_SECONDS TIMEOUTS TIME_WATCHED_SECONDS TOTAL_INVENTORY".split()),
    *("TRANSCODING_USED_LIVE_MEDIA_COUNT TRANSCODING_USED_LIVE_SECONDS".split()),
    *("TRANSCODING_USED_TOTAL_SECONDS TRANSCODING_USED_VOD_MEDIA_COUNT".split()),
    *("TRANSCODING_USED_VOD_SECONDS UPLOADS VALID_TRAFFIC_INVENTORY VIEWABILITY_SCORE".split()),
    *("VIEWS VIEW_THROUGH_RATE VTR_SCORE AVERAGE_WATCH_TIME_SEC".split()),
)

#: Every value of the schema's ``PartnerReportDimension`` enum (plus
#: ``INVENTORY_POSITION_INDEX``, added in 2026).
DIMENSIONS: tuple[str, ...] = (
    *("ACCOUNT_ID ACCOUNT_USERNAME ACTION ADS_TXT_STATUS AD_ERROR_CODE AD_ERROR_READABLE".split()),
    *("AD_FORMAT AI_FEATURE_NAME BUYER BUYERTYPE CHANNEL_SLUG CLAIMER_CHANNEL".split()),
    *("CLAIMER_OR_PARENT_USERNAME CONTENT_TAG CONTENT_TAG_LIST CONTENT_TYPE DAY HOUR".split()),
    *("INVENTORY_POSITION MEDIA_TYPE MINUTE MONETIZATION_PRODUCT MONETIZATION_TYPE".split()),
    *("MONTH NOAD_REASON_READABLE OUTCOME OWNER_OR_PARENT_USERNAME PARENT_ACCOUNT_ID".split()),
    *("PARENT_ACCOUNT_USERNAME PLAYER_ID PLAYER_SIZE PLAYER_SIZE_BUCKET PLAYER_TITLE".split()),
    *("PLAYER_TYPE PLAYLIST_ID PLAYLIST_TITLE PLAYLIST_TYPE PUBLISHER_CHANNEL".split()),
    *("PUBLISHER_ID PUBLISHER_OR_PARENT_USERNAME RENDITION_FORMAT RENDITION_FPS".split()),
    *("RENDITION_RESOLUTION VIDEO_ID VIDEO_OWNER_CHANNEL_SLUG VIDEO_OWNER_ID".split()),
    *("VIDEO_OWNER_USERNAME VIDEO_POSITION VIDEO_TITLE VISIBILITY VISITOR_COUNTRY".split()),
    *("VISITOR_DEVICE_TYPE VISITOR_DOMAIN_GROUP VISITOR_PAGE_URL VISITOR_SUBDOMAIN".split()),
    "INVENTORY_POSITION_INDEX",
)

PRODUCTS = ("ALL", "CLAIM", "CONTENT", "EMBED")
MEDIA_TYPES = ("LIVE", "VIDEO")
MONETIZATION_TYPES = ("CLAIM", "VIDEO_MONETIZATION", "WEBSITE_MONETIZATION")
STATUSES = ("EXPIRED", "FAILED", "FINISHED", "IN_PROGRESS")
#: ``PartnerReportFilters`` fields: (name, GraphQL type).
FILTERS = (
    ("channelSlug", "String"),
    ("mediaType", "PartnerReportFilterMediaType"),
    ("monetizationType", "PartnerReportFilterMonetizationType"),
    ("videoOwnerChannelSlug", "String"),
    ("visitorDomainGroup", "String"),
)

TIME_DIMENSIONS = frozenset({"DAY", "MONTH", "HOUR"})
_AUDIENCE_DIMS = frozenset(
    "HOUR DAY MONTH VIDEO_OWNER_CHANNEL_SLUG VIDEO_ID VIDEO_TITLE MEDIA_TYPE CONTENT_TAG "
    "CONTENT_TAG_LIST PLAYLIST_ID PLAYLIST_TITLE VIDEO_POSITION PLAYER_ID PLAYER_TITLE "
    "PUBLISHER_ID PUBLISHER_CHANNEL VISITOR_DOMAIN_GROUP VISITOR_PAGE_URL VISITOR_SUBDOMAIN "
    "VISITOR_COUNTRY VISITOR_DEVICE_TYPE ACTION".split()
)
_UPLOAD_DIMS = frozenset(
    "MONTH DAY VIDEO_OWNER_CHANNEL_SLUG VIDEO_ID VIDEO_TITLE VISIBILITY".split()
)
_LIVE_DIMS = _AUDIENCE_DIMS - {"MEDIA_TYPE", "PLAYLIST_ID", "PLAYLIST_TITLE", "VIDEO_POSITION"}
_REVENUE_DIMS = frozenset(
    "DAY MONTH CHANNEL_SLUG VIDEO_OWNER_CHANNEL_SLUG VIDEO_ID VIDEO_TITLE CONTENT_TAG "
    "CONTENT_TAG_LIST PLAYLIST_ID PLAYLIST_TITLE VIDEO_POSITION PLAYER_ID PLAYER_TITLE "
    "PUBLISHER_ID PUBLISHER_CHANNEL VISITOR_DOMAIN_GROUP VISITOR_PAGE_URL VISITOR_SUBDOMAIN "
    "VISITOR_COUNTRY VISITOR_DEVICE_TYPE".split()
)
AUDIENCE_METRICS = ("VIEWS", "TIME_WATCHED_SECONDS", "VIEW_THROUGH_RATE", "AVERAGE_WATCH_TIME_SEC")
REVENUE_METRICS = ("ESTIMATED_EARNINGS_USD", "ESTIMATED_EARNINGS_EUR")
LIVE_METRICS = ("LIVE_VIEWERS", "LIVE_TIME_WATCHED_SECONDS")
#: The ad metrics the sandbox computes (from the audience, see ``frames``).
AD_METRICS = (
    "TOTAL_INVENTORY",
    "SELLABLE_INVENTORY",
    "NB_IMPRESSION",
    "IMPRESSIONS",
    "NB_MISSED_IMPRESSION",
    "NO_FILLS",
    "FILL_RATE",
    "AD_ERRORS",
    "TIMEOUTS",
    "ECPM_EUR",
    "ECPM_USD",
)

#: Served metric -> the dimensions it can be broken down by.
COMPATIBLE: dict[str, frozenset[str]] = {
    **{m: _AUDIENCE_DIMS for m in AUDIENCE_METRICS},
    "UPLOADS": _UPLOAD_DIMS,
    **{m: _LIVE_DIMS for m in LIVE_METRICS},
    **{m: _REVENUE_DIMS for m in REVENUE_METRICS},
    **{m: frozenset(TIME_DIMENSIONS) for m in AD_METRICS},
}

#: Permissions (API key) and scopes (token) of the Reporting API.
REPORT_SCOPES = ("create_reports", "read_reports", "delete_reports", "access_revenue", "access_ads")
#: Scopes of other API generations that also give access to reports (API v2).
V2_ANALYTICS_SCOPE = "analytics.manage"
#: Metric -> the permission it needs besides ``create_reports``.
METRIC_PERMISSION: dict[str, str] = {
    **{m: "access_revenue" for m in REVENUE_METRICS},
    **{m: "access_ads" for m in AD_METRICS},
}

MAX_DIMENSIONS = 8
MAX_DAYS = 180
#: Reports of one API key in progress at once.
MAX_IN_PROGRESS = 2

#: Metrics whose matrix row the documentation gives (the client checks their pairs itself).
DOCUMENTED_METRICS = frozenset((*AUDIENCE_METRICS, "UPLOADS", *LIVE_METRICS, *REVENUE_METRICS))
#: Endings of metrics that are rates, averages, scores or money (floats); others are counts.
_FLOAT_ENDINGS = ("_RATE", "_SEC", "_SCORE", "_EUR", "_USD", "_EUR_OLD", "_USD_OLD")


def is_count(metric: str) -> bool:
    """True for a metric counted in whole units (views, seconds watched, impressions...);
    False for rates, averages, scores and money."""
    return not metric.endswith(_FLOAT_ENDINGS)


def is_additive(metric: str) -> bool:
    """True for a metric whose values over two date ranges add up to the value over both:
    counts and money (not rates, averages, scores or eCPMs)."""
    return is_count(metric) or metric.startswith("ESTIMATED_EARNINGS_")


#: The object and input types (the enums come from the catalogue).
_TYPES = """input AskPartnerReportFileInput {
  clientMutationId: String
  dimensions: [PartnerReportDimension]!
  endDate: DateTime!
  filters: PartnerReportFilters
  metrics: [PartnerReportMetric]!
  product: PartnerReportProduct
  startDate: DateTime!
}

type AskPartnerReportFilePayload {
  clientMutationId: String
  reportFile: PartnerReportFile
  status: Status
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  nextPage: Int
}

type ReportFileDownloadLink {
  id: ID!
  link: String
}

type ReportFileDownloadLinkEdge {
  node: ReportFileDownloadLink
}

type ReportFileDownloadLinkConnection {
  edges: [ReportFileDownloadLinkEdge]!
  pageInfo: PageInfo!
  totalCount: Int
}

type PartnerReportFile {
  createDate: DateTime!
  createdAt: DateTime @deprecated(reason: "Use `createDate` field.")
  downloadLinks(first: Int, page: Int): ReportFileDownloadLinkConnection
  id: ID!
  reportToken: String
  status: PartnerReportStatus
}

type PartnerSpace {
  id: ID!
  reportFile(reportToken: String!): PartnerReportFile
}

type Query {
  partner: PartnerSpace
}

type Mutation {
  askPartnerReportFile(input: AskPartnerReportFileInput!): AskPartnerReportFilePayload
}"""


def _enum(name: str, values: tuple[str, ...]) -> str:
    return f"enum {name} {{\n  " + "\n  ".join(values) + "\n}"


def sdl() -> str:
    """The schema of the report operations in the GraphQL schema language."""
    filters = "\n  ".join(f"{name}: {kind}" for name, kind in FILTERS)
    return "\n\n".join(
        [
            '"""An ISO 8601 date (YYYY-MM-DD) or date-time."""\nscalar DateTime',
            _enum("PartnerReportMetric", METRICS),
            _enum("PartnerReportDimension", DIMENSIONS),
            _enum("PartnerReportProduct", PRODUCTS),
            _enum("PartnerReportFilterMediaType", MEDIA_TYPES),
            _enum("PartnerReportFilterMonetizationType", MONETIZATION_TYPES),
            _enum("PartnerReportStatus", STATUSES),
            _enum("Status", ("SUCCESS",)),
            f"input PartnerReportFilters {{\n  {filters}\n}}",
            _TYPES,
        ]
    )
