"""API v2 access tokens: scopes, bundles, key permissions and HS256 JWTs (no HTTP).

A v2 token is a JWT signed with HS256 by a secret of the sandbox's database (kept in its
``meta`` table, so tokens survive a restart with a database file). Its claims are ``sub``
(the key's first channel: the profile id clients create videos under), ``client_id``,
``scope`` (the effective scopes, space-separated), ``iat``, ``exp`` and a unique ``jti``.
Each token is also a row of the one token table (kind ``v2_access``): expiring every token
(admin API) reaches v2 tokens too, and a v2 token is never a legacy access token (nor the
other way round), as on the two real token servers.

Scopes (§2.3 of the v2 reference): the four bundles expand to single scopes, ``x.manage``
implies ``x.read``, and the effective scopes are the requested ones within the key's
permissions (every scope, unless the key's row in ``key_permissions`` says otherwise). A
request without ``scope`` gets the key's permissions.

Example:
    >>> sorted(expand(["bundle.public"]))
    ['playlist.read', 'profile.read', 'video.read']
    >>> sorted(expand(["video.manage"]))
    ['video.manage', 'video.read']
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import jwt

from dmtools.sandbox.state.errors import GrantError, TokenRejected
from dmtools.sandbox.state.tokens import Issued, Principal, Tokens

if TYPE_CHECKING:
    from dmtools.sandbox.state.store import Store

KIND = "v2_access"
ALGORITHM = "HS256"
_AREAS = ("account", "profile", "video", "playlist", "player", "live", "analytics", "organization")
#: Every single scope: ``<area>.read`` and ``<area>.manage``.
SCOPES = frozenset(f"{area}.{level}" for area in _AREAS for level in ("read", "manage"))
_PUBLIC = ("playlist.read", "profile.read", "video.read")
_USER = (
    *_PUBLIC,
    "account.manage",
    "live.manage",
    "playlist.manage",
    "profile.manage",
    "video.manage",
)
_PUBLISHER = (*_USER, "analytics.manage", "player.manage")
#: What each bundle expands to (before ``x.manage`` adds ``x.read``).
BUNDLES: dict[str, tuple[str, ...]] = {
    "bundle.public": _PUBLIC,
    "bundle.user": _USER,
    "bundle.publisher": _PUBLISHER,
    "bundle.organization": (*_PUBLISHER, "organization.manage"),
}


def expand(names: Iterable[str]) -> frozenset[str]:
    """Single scopes of scope and bundle names (``x.manage`` adds ``x.read``).

    Raises:
        GrantError: ``invalid_scope`` naming the unknown names.
    """
    out: set[str] = set()
    unknown: list[str] = []
    for name in names:
        if name in BUNDLES:
            out.update(BUNDLES[name])
        elif name in SCOPES:
            out.add(name)
        elif name not in unknown:
            unknown.append(name)
    if unknown:
        shown = " ".join(name[:40] for name in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise GrantError("invalid_scope", f"Unknown scope: {shown}.")
    out.update(s.removesuffix(".manage") + ".read" for s in list(out) if s.endswith(".manage"))
    return frozenset(out)


def parse_scope(text: str) -> list[str]:
    """Scope and bundle names of a space-separated ``scope`` parameter."""
    return [name for name in re.split(r"\s+", text.strip()) if name]


class V2Tokens:
    """Issues and checks API v2 access tokens, stored in the sandbox database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._tokens = Tokens(store)
        self._secret: str | None = None

    def _key(self) -> str:
        if self._secret is None:
            with self.store.db.write() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('v2_jwt_secret', ?)",
                    (secrets.token_hex(32),),
                )
                row = conn.execute("SELECT value FROM meta WHERE key = 'v2_jwt_secret'").fetchone()
            self._secret = str(row[0])
        return self._secret

    def permissions(self, client_id: str) -> frozenset[str]:
        """The API v2 scopes a key may grant (every scope unless it has a permissions row)."""
        with self.store.db.read() as conn:
            row = conn.execute(
                "SELECT scopes FROM key_permissions WHERE client_id = ?", (client_id,)
            ).fetchone()
        return SCOPES if row is None else expand(parse_scope(row[0]))

    def issue(self, client: dict[str, Any], scope_text: str | None) -> Issued:
        """A new access token for a private key (``client_credentials``).

        Raises:
            GrantError: ``invalid_scope`` (an unknown name, or nothing the key may grant).
        """
        allowed = self.permissions(client["client_id"])
        if scope_text is None or not scope_text.strip():
            scopes = allowed
        else:
            scopes = expand(parse_scope(scope_text)) & allowed
            if not scopes:
                raise GrantError(
                    "invalid_scope", "This API key has none of the requested permissions."
                )
        lifetime = int(self.store.settings.v2_token_lifetime)
        now = time.time()
        scope = " ".join(sorted(scopes))
        sub = client["channels"][0] if client["channels"] else None
        jti = secrets.token_urlsafe(12)
        claims = {
            "sub": sub,
            "client_id": client["client_id"],
            "scope": scope,
            "iat": int(now),
            "exp": int(now) + lifetime,
            "jti": jti,
        }
        token = jwt.encode(claims, self._key(), algorithm=ALGORITHM)
        with self.store.db.write() as conn:
            conn.execute(
                "INSERT INTO tokens (token, kind, client_id, user_id, scope, expires_at, family,"
                " grant_type) VALUES (?,?,?,?,?,?,?,?)",
                (token, KIND, client["client_id"], None, scope, now + lifetime, jti, "v2"),
            )
        return Issued(token, None, lifetime, tuple(sorted(scopes)), sub)

    def authenticate(self, token: str) -> Principal:
        """The principal of a valid v2 access token.

        Raises:
            TokenRejected: not a JWT of this sandbox (malformed, bad signature, unknown) or
                expired (``expired`` True).
        """
        try:
            jwt.decode(
                token,
                self._key(),
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "require": ["exp", "iat", "jti"]},
            )
        except jwt.InvalidTokenError:
            raise TokenRejected(expired=False) from None
        return self._tokens.authenticate(token, kind=KIND)
