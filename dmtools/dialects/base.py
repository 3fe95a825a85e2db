"""The dialect interface: what differs between generations of the Dailymotion API.

A :class:`Dialect` words requests (:class:`Call`) and reads answers; it never sends anything.
The transport sends its calls (retries, timeouts, rate limit, tokens), and everything above the
client (``videos``, the loader, bulk apply, frames, reports) sees only canonical data: video
records keyed by the field names of :data:`dmtools.schema.VIDEO_FIELDS`, with the values of
the legacy wire (dates as unix seconds, booleans, tags as lists), and :class:`Page` objects.
For the legacy Platform API the mapping is the identity (:mod:`dmtools.dialects.legacy`).

Where each difference lives:

========================= ===========================================================
concern                   members
========================= ===========================================================
logging in                :attr:`~Dialect.grants`, :meth:`~Dialect.token_url`,
                          :meth:`~Dialect.base_url`, :attr:`~Dialect.renew_ahead`,
                          :attr:`~Dialect.access_scopes`
values and bodies         :meth:`~Dialect.call` (query encoding; form or JSON body)
error bodies              :meth:`~Dialect.read_error`, :meth:`~Dialect.stale_token`
account, organisation     :meth:`~Dialect.account_call`, :meth:`~Dialect.channels_call`,
                          :meth:`~Dialect.logout_call` (+ their readers)
field names and values    :meth:`~Dialect.fields_param`, :meth:`~Dialect.record`,
                          :meth:`~Dialect.missing_fields`, :meth:`~Dialect.check_edit`
filters, lists, paging    :attr:`~Dialect.filters`, :meth:`~Dialect.encode_filter`,
                          :meth:`~Dialect.list_path`, :meth:`~Dialect.first_page`,
                          :meth:`~Dialect.read_page`, :attr:`~Dialect.max_page_size`,
                          :attr:`~Dialect.list_ceiling`
windows past the ceiling  :meth:`~Dialect.window`, :attr:`~Dialect.window_inclusive`,
                          :meth:`~Dialect.sort`, :attr:`~Dialect.partitions`
edit and delete           :meth:`~Dialect.edit_call`, :meth:`~Dialect.read_edit`,
                          :meth:`~Dialect.delete_call`
batching (bulk engine)    :attr:`~Dialect.batch_read_size`, :meth:`~Dialect.batch_read_call`,
                          :meth:`~Dialect.read_batch`, :attr:`~Dialect.batch_call_size`,
                          :meth:`~Dialect.batch_call`, :meth:`~Dialect.read_batch_answers`
========================= ===========================================================

Mapping decisions for API v2 that this interface anticipates (the v2 module implements them):

* **Base and login.** ``base_url`` is the v2 base (``.../v2``) for every key;
  ``grants = {"client_credentials"}``; ``token_url`` is ``oauth2.../v2/token``. Tokens have
  no refresh token and last ``expires_in`` (1,800 s): the token manager fetches a new one
  ``renew_ahead`` seconds before expiry (360 s: a fifth of the lifetime), and once more on a
  401 (``stale_token`` is true for every v2 401, whose ``details.reason`` is
  ``missing_token``/``expired_token``/``invalid_token``). ``access_scopes`` gives v2's
  scopes per access level (``video.read``; ``video.manage`` to edit and delete). A login is
  then ``LoginSpec(..., dialect="v2")`` (or ``DMTOOLS_API=v2``): the token code asks the
  dialect for its token URL, renewal lead and scopes, and the token store keys v2 sessions
  apart from legacy ones (:class:`dmtools.auth.credentials.LoginSpec`).
* **Bodies.** ``call`` and ``edit_call`` build JSON bodies (``json=True``) with JSON booleans,
  arrays for tags and ``null`` to clear; queries stay text (``fields`` comma-separated).
* **Edit.** ``edit_call`` is ``PATCH /videos/{video_id}`` with only the changed fields;
  ``read_edit`` returns None for the 204 without a body, so :func:`dmtools.videos.update_video`
  reads the after-image back (``{"id": video_id}`` needs no read). Delete answers 204: ``{}``.
* **Fields.** ``fields_param``/``record`` rename and nest: ``id`` ↔ ``video_id``, ``channel`` ↔
  ``category``, ``is_created_for_kids`` ↔ ``is_for_kids``, ``explicit`` ↔ ``is_explicit``,
  ``owner`` ↔ ``profile.profile_id``, ``owner.screenname`` ↔ ``profile.display_name``,
  ``owner.username`` ↔ ``profile.name`` (the nested ``profile`` object is flattened into the
  canonical dotted keys), ``duration`` ↔ ``source.duration``, ``url`` ↔ ``video_url``,
  ``allow_embed`` ↔ ``embedding.enable_embed``;
  ``private`` and ``password_protected`` are read from ``visibility`` and written as
  ``visibility``; ``published`` is read from ``is_published`` and cannot be written;
  ``created_time``/``updated_time`` are ISO 8601 on the wire and unix seconds in records.
  Fields v2 lacks (``views_*``, ``likes_total``, ``comments_total``, ``bookmarks_total``,
  ``status``, ``mode``...) are named by ``missing_fields``: asked for by name, they are
  refused with an InputError before any request (``field_hint`` says where the data lives); in the default set they are left out of ``fields_param``,
  so a frame loaded through v2 has the same columns and dtypes, with those missing.
  ``check_edit`` adds v2's rules (title 1-255 characters, ``explicit`` never unset, strict
  types).
* **Owners.** ``list_path("me")`` is None (read the account's profiles with ``channels_call``:
  ``GET /me`` → ``profiles[].profile_id``) and ``list_path(id)`` is ``/profiles/{id}/videos``;
  v2 has no global list (``list_path(None)`` raises InputError).
* **Filters.** ``filters`` lists what v2 accepts: no ``ids``, ``owners``, ``search``,
  ``flags``, nor ``channel`` (v2 lists have no category filter); ``private=True`` →
  ``visibility=private``; ``sort`` ``recent``/``old`` → ``-created_at``/``created_at``. Batch reads by ``ids`` or multi-call do not
  exist: nothing above the client relies on them.
* **Paging.** ``first_page`` sends ``page=1&page_size=N``; ``read_page`` reads ``data`` and
  ``pagination`` (``next`` absolute URL, falling back to a top-level ``next``; ``more`` is
  ``next is not None``; ``total`` informational) and returns ``next`` as a Call of that URL
  (the transport refuses a URL on another host).
* **Windows.** ``window`` encodes ISO 8601 (``Z``); ``window_inclusive = (True, True)``
  (documented), ``sort(oldest_first)`` is ``created_at``/``-created_at``; ``partitions`` of a
  busy second are ``visibility`` values, then ``is_for_kids``, then ``is_explicit``.
* **Errors.** ``read_error`` reads ``{"error": {"code", "message", "details"}}``:
  ``INVALID_PARAMETER``/``MISSING_REQUIRED_PARAMETER`` (400 or 422) → ValidationError with
  ``param`` from ``details.param``; ``MISSING_PERMISSIONS`` → PermissionDenied with
  ``details.required_scope``; the class still comes from the HTTP status.

Example:
    >>> from dmtools.dialects import get_dialect
    >>> get_dialect("legacy").video_call("x8abc", ["id", "title"]).path
    '/video/x8abc'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote

from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    from dmtools.config import Endpoints
    from dmtools.errors import APIError, ErrorBody
    from dmtools.schema import FieldLimits, Kind

__all__ = ["BatchAnswer", "Call", "Dialect", "Op", "Page", "segment"]

#: Operation class of a call: decides what the transport may retry (see :mod:`dmtools._http`).
Op = Literal["read", "edit", "delete", "create", "auth"]


@dataclass(frozen=True)
class Call:
    """One request as a dialect words it; the transport sends it.

    Attributes:
        method: ``GET``, ``POST``, ``PATCH`` or ``DELETE``.
        path: a path under the API base, or an absolute URL on the same host (a ``next``
            link).
        params: the query, encoded as text.
        body: the body: a form of text values, or any JSON value when ``json``.
        json: send ``body`` as JSON.
        op: operation class (retry rules).
    """

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    json: bool = False
    op: Op = "read"


@dataclass(frozen=True)
class Page:
    """One page of a listing, read by the dialect.

    Attributes:
        items: the records of the page (canonical field names and values).
        number: the page number (1 for the first).
        more: the API says more results follow.
        total: the API's count of matches, if it gave one (never trusted for completeness).
        size: the page size asked for.
        next: the call of the following page; None at the end, or at the result ceiling.
    """

    items: list[dict[str, Any]]
    number: int
    more: bool
    total: int | None
    size: int
    next: Call | None = None


def segment(value: Any, what: str) -> str:
    """One URL path segment from an id, refusing anything path-like (InputError names ``what``).

    Example:
        >>> segment("x8abc", "video id")
        'x8abc'
    """
    if not isinstance(value, str) or not value.strip() or any(c in value for c in "/?#\\"):
        raise InputError(f"bad {what}", [Problem(None, what, f"{value!r} is not a valid {what}")])
    return quote(value.strip(), safe="")


class Dialect(ABC):
    """Everything specific to one generation of the API (see the module notes).

    A dialect is stateless and thread-safe; one instance serves every client.
    """

    #: Short name (``dm.connect(..., dialect="legacy")``).
    name: ClassVar[str]
    #: Most items one page may hold.
    max_page_size: ClassVar[int] = 100
    #: Most results one list query reaches, whatever the paging.
    list_ceiling: ClassVar[int] = 1000
    #: How the API reads ``window`` bounds, as first assumed: (after, before) inclusive. A
    #: wrong guess costs one more read: the loader learns from the creation times it gets.
    window_inclusive: ClassVar[tuple[bool, bool]] = (False, False)
    #: Whether any page of a listing can be asked for by number and size (page ``n`` of size
    #: ``s`` holding results ``s*(n-1)`` to ``s*n - 1``): the loader then reads several pages
    #: of one query at once. False: pages only follow one another (``next`` links).
    offset_pages: ClassVar[bool] = False
    #: Wire filters that cut one busy second into disjoint parts, tried in order.
    partitions: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()
    #: Seconds before expiry that an access token is renewed (``connect``'s default
    #: ``leeway``): long enough for a call started just before to finish.
    renew_ahead: ClassVar[float] = 60.0
    #: Scopes a login asks for, by access level (``read-only``, ``edit``, ``delete``) and
    #: kind of key (``public``, ``private``); None: the Platform API's scopes
    #: (:data:`dmtools.auth.credentials.ACCESS_LEVELS`).
    access_scopes: ClassVar[Mapping[str, Mapping[str, tuple[str, ...]]] | None] = None
    #: Scopes that let a list show private and unpublished videos (None: the Platform API's,
    #: :func:`dmtools.visibility.partial_reason`).
    reader_scopes: ClassVar[tuple[str, ...] | None] = None

    # -- logging in ---------------------------------------------------------------------------

    @property
    @abstractmethod
    def grants(self) -> frozenset[str]:
        """The OAuth grants this API accepts."""

    @abstractmethod
    def base_url(self, endpoints: Endpoints, *, partner: bool) -> str:
        """Where API calls go, for a private (``partner``) or a public key."""

    @abstractmethod
    def token_url(self, endpoints: Endpoints, *, grant: str) -> str:
        """The token endpoint of ``grant``."""

    # -- the wire -----------------------------------------------------------------------------

    @abstractmethod
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        op: Op | None = None,
    ) -> Call:
        """A call of ``path`` with Python values in ``params``/``data``, encoded for the wire
        (``op`` defaults from the method: GET read, DELETE delete, others edit)."""

    @abstractmethod
    def read_error(self, status: int, payload: Any) -> ErrorBody | None:
        """The API's error JSON (decoded) read into an ErrorBody; None if it is not one."""

    @abstractmethod
    def stale_token(self, error: APIError) -> bool:
        """A 401 that a new access token may cure (the call is replayed once)."""

    # -- account ------------------------------------------------------------------------------

    @abstractmethod
    def account_call(self, fields: Sequence[str] | str | None) -> Call:
        """Read the logged-in account (its ``id`` at least)."""

    @abstractmethod
    def read_account(self, answer: Any) -> dict[str, Any]:
        """The account as a dict with canonical user field names (``id``, ``username``...)."""

    @abstractmethod
    def channels_call(self) -> Call:
        """Read the channels (profiles) a private key reaches."""

    @abstractmethod
    def read_channels(self, answer: Any) -> list[str]:
        """Their ids, in the API's order (empty if the API lists none)."""

    def read_profiles(self, answer: Any) -> list[dict[str, Any]]:
        """The channels (profiles) of a :meth:`channels_call` answer as dicts with
        ``profile_id`` and, where the API says, ``name`` and ``display_name``."""
        return [{"profile_id": channel} for channel in self.read_channels(answer)]

    @abstractmethod
    def logout_call(self) -> Call | None:
        """Revoke the session on the API, or None where the API has no such call."""

    # -- videos -------------------------------------------------------------------------------

    @abstractmethod
    def missing_fields(self, names: Sequence[str]) -> list[str]:
        """The canonical field names this API cannot read (in input order)."""

    def field_hint(self, name: str) -> str | None:
        """Where the data of a field this API lacks lives instead (for the InputError that
        refuses it), or None."""
        return None

    @abstractmethod
    def fields_param(self, names: Sequence[str]) -> dict[str, str]:
        """The query parameters asking for the canonical fields ``names`` (those this API
        lacks are left out: records come without them)."""

    @abstractmethod
    def record(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """One video as the API sent it, as a canonical record."""

    @abstractmethod
    def video_call(self, video_id: str, names: Sequence[str]) -> Call:
        """Read one video's fields ``names``."""

    @abstractmethod
    def edit_call(
        self, video_id: str, values: Mapping[str, Any], names: Sequence[str] | None
    ) -> Call:
        """Write canonical ``values`` to a video; ask for ``names`` back where the API can."""

    @abstractmethod
    def read_edit(
        self, answer: Any, video_id: str, names: Sequence[str] | None
    ) -> dict[str, Any] | None:
        """The after-image an edit answered with (a canonical record), or None when the
        answer holds none: :func:`dmtools.videos.update_video` then reads it back."""

    @abstractmethod
    def delete_call(self, video_id: str) -> Call:
        """Delete a video."""

    @abstractmethod
    def check_edit(self, values: Mapping[str, Any], *, partner: bool) -> list[Problem]:
        """Why canonical ``values`` cannot be written through this API (empty: they can)."""

    @abstractmethod
    def limits(self, *, partner: bool) -> FieldLimits:
        """Length limits of text fields for a private (``partner``) or a public key."""

    # -- lists --------------------------------------------------------------------------------

    @property
    @abstractmethod
    def filters(self) -> Mapping[str, Kind]:
        """The canonical list filters this API accepts, with their kinds."""

    @abstractmethod
    def encode_filter(self, name: str, value: Any) -> dict[str, str]:
        """Query parameters of one checked canonical filter value (raise ValueError with the
        reason when this API cannot express it)."""

    @abstractmethod
    def list_path(self, owner: str | None, *, partner: bool) -> str | None:
        """The list of ``owner``'s videos (``"me"``, an account id, or None for every
        video); None: read each channel of :meth:`channels_call` with ``list_path(id)``."""

    @abstractmethod
    def first_page(self, path: str, params: Mapping[str, str], *, size: int) -> Call:
        """The first page of a listing (raise ValueError for a size the API refuses)."""

    @abstractmethod
    def read_page(self, answer: Any, call: Call) -> Page:
        """The page ``call`` answered, with the call of the next one (None at the end or at
        the result ceiling)."""

    @abstractmethod
    def window(self, after: int | None, before: int | None) -> dict[str, str]:
        """Query parameters bounding creation times (unix seconds, as the API reads them)."""

    @abstractmethod
    def sort(self, *, oldest_first: bool) -> dict[str, str]:
        """Query parameters sorting by creation time."""

    # -- batching (bulk engine) ---------------------------------------------------------------
    # What the API offers to do many reads or writes in one request. The bulk engine asks
    # these members, never a dialect's name: with the defaults (1 and 1) every video is read
    # and written with its own request.

    #: Most videos one batched read returns (:meth:`batch_read_call`); 1: no batched read.
    batch_read_size: ClassVar[int] = 1
    #: Most calls one batched request carries (:meth:`batch_call`); 1: no multi-call.
    batch_call_size: ClassVar[int] = 1

    def batch_read_call(self, video_ids: Sequence[str], names: Sequence[str]) -> Call:
        """Read the fields ``names`` of up to :attr:`batch_read_size` videos in one request
        (videos the answer lacks are gone or not visible through it: read them one by one)."""
        raise NotImplementedError(f"the {self.name} API has no batched read")

    def read_batch(self, answer: Any, call: Call) -> list[dict[str, Any]]:
        """The canonical records a :meth:`batch_read_call` answered with."""
        raise NotImplementedError(f"the {self.name} API has no batched read")

    def batch_call(self, calls: Sequence[Call]) -> Call:
        """One request carrying up to :attr:`batch_call_size` ``calls`` (edits or deletes)."""
        raise NotImplementedError(f"the {self.name} API has no multi-call")

    def read_batch_answers(self, answer: Any, calls: Sequence[Call]) -> list[BatchAnswer] | None:
        """Each call's answer in a :meth:`batch_call` answer, in ``calls`` order; None when
        the answer is not a batch answer (the server does not speak multi-call)."""
        raise NotImplementedError(f"the {self.name} API has no multi-call")


@dataclass(frozen=True)
class BatchAnswer:
    """One call's answer inside a batched request: its decoded ``result``, or the HTTP
    ``status`` and ``error`` JSON (as a single call's error answer would carry them)."""

    result: Any = None
    status: int = 200
    error: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None
