"""API keys, access tokens, refresh tokens and authorization codes of the sandbox (no HTTP).

Tokens carry the ``emu_`` prefix (``emu_at_``, ``emu_rt_``, ``emu_ac_``) so a sandbox token
is recognisable anywhere it leaks. Every token belongs to a *family* (one login): a logout,
or the reuse of a rotated refresh token, revokes the whole family. A token is a row of the
one store, whichever dialect's endpoint issued it, so it works on every dialect its key may
use. Refusals are :class:`GrantError` (RFC 6749 codes) and :class:`TokenRejected`; each
dialect renders them in its own wire format.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dmtools.sandbox.state.errors import GrantError, TokenRejected

if TYPE_CHECKING:
    from dmtools.sandbox.state.store import Store

#: Scopes a public key may ask for (current names plus legacy ones still seen in the wild).
PUBLIC_SCOPES = frozenset(
    {
        "email",
        "userinfo",
        "manage_videos",
        "manage_playlists",
        "manage_players",
        "manage_subtitles",
        "manage_likes",
        "manage_subscriptions",
        "manage_podcasts",
        "manage_comments",
        "manage_favorites",
        "manage_features",
        "manage_friends",
        "manage_groups",
        "manage_records",
        "manage_tiles",
        "manage_user_settings",
        "manage_applications",
        "read",
        "write",
        "delete",
        "feed",
        "access_ads",
        "access_revenue",
        "create_reports",
        "read_reports",
        "delete_reports",
    }
)
#: Scopes a private key may ask for; ``manage_videos`` is the union of the four ``*_videos``.
PRIVATE_SCOPES = frozenset(
    {
        "read_videos",
        "edit_videos",
        "delete_videos",
        "upload_videos",
        "manage_videos",
        "manage_players",
        "manage_playlists",
        "manage_subtitles",
        "email",
        "userinfo",
        "access_ads",
        "access_revenue",
        "create_reports",
        "read_reports",
        "delete_reports",
    }
)
CAPABILITIES = ("read", "edit", "delete", "upload")
#: What each scope allows on videos (``manage_videos`` is the union of the four).
SCOPE_CAPABILITIES: dict[str, frozenset[str]] = {
    "manage_videos": frozenset(CAPABILITIES),
    **{f"{c}_videos": frozenset({c}) for c in CAPABILITIES},
}


@dataclass(frozen=True)
class Issued:
    """A token grant, for the dialect to render as its token response."""

    access_token: str
    refresh_token: str | None
    expires_in: int
    scopes: tuple[str, ...]
    account_id: str | None  #: the user, or the first channel of a private key


@dataclass(frozen=True)
class Principal:
    """Who a valid access token speaks for."""

    token: str
    client_id: str
    kind: str  # "public" or "private"
    user_id: str | None
    channels: tuple[str, ...]
    scopes: frozenset[str]
    family: str

    @property
    def partner(self) -> bool:
        return self.kind == "private"

    @property
    def account_id(self) -> str | None:
        """The user a public token speaks for, or the first channel of a private key."""
        return self.user_id if self.user_id else (self.channels[0] if self.channels else None)

    def owns(self, owner_id: str) -> bool:
        return owner_id in self.channels if self.partner else owner_id == self.user_id

    def can(self, capability: str) -> bool:
        """Whether the token's scopes allow ``capability`` (read/edit/delete/upload)."""
        return any(capability in SCOPE_CAPABILITIES.get(s, ()) for s in self.scopes)


def parse_scope(text: str, allowed: frozenset[str], *, ignore_unknown: bool = False) -> list[str]:
    """Scope names from a space- (or comma-) separated string; unknown ones are refused
    (or, with ``ignore_unknown``, left out)."""
    names: list[str] = []
    for name in re.split(r"[\s,]+", text.strip()):
        if name and name not in names:
            names.append(name)
    unknown = [n for n in names if n not in allowed]
    if unknown and ignore_unknown:
        return [n for n in names if n in allowed]
    if unknown:
        raise GrantError("invalid_scope", f"Unknown or unavailable scope: {' '.join(unknown)}.")
    return names


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Tokens:
    """Checks API keys and issues and checks tokens and codes, stored in the sandbox database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def client(self, client_id: str, secret: str) -> dict[str, Any]:
        """The API key ``client_id`` if ``secret`` is its secret.

        Raises:
            GrantError: ``invalid_client``.
        """
        client = self.store.client(client_id)
        if client is None or not hmac.compare_digest(
            client["client_secret"].encode(), (secret or "").encode("utf-8", "replace")
        ):
            raise GrantError("invalid_client", "Invalid client credentials.")
        return client

    def issue(
        self,
        client: dict[str, Any],
        user_id: str | None,
        scopes: list[str],
        grant: str,
        family: str | None = None,
    ) -> Issued:
        """New tokens: an access token, and a refresh token unless ``client_credentials``."""
        lifetime = int(self.store.settings.token_lifetime)
        family = family or secrets.token_hex(8)
        access = "emu_at_" + secrets.token_urlsafe(24)
        scope = " ".join(scopes)
        client_id = client["client_id"]
        rows: list[tuple[Any, ...]] = [
            (access, "access", client_id, user_id, scope, time.time() + lifetime, family, grant)
        ]
        refresh = None
        if grant != "client_credentials":
            refresh = "emu_rt_" + secrets.token_urlsafe(30)
            rows.append((refresh, "refresh", client_id, user_id, scope, None, family, grant))
        with self.store.db.write() as conn:
            conn.executemany(
                "INSERT INTO tokens (token, kind, client_id, user_id, scope, expires_at, family,"
                " grant_type) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
        account = user_id if user_id else (client["channels"][0] if client["channels"] else None)
        return Issued(access, refresh, lifetime, tuple(scopes), account)

    def authenticate(self, token: str, *, kind: str = "access") -> Principal:
        """The principal of a valid access token (``kind``: ``v2_access`` for API v2 ones).

        Raises:
            TokenRejected: unknown, revoked or expired.
        """
        with self.store.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM tokens WHERE token = ? AND kind = ?", (token, kind)
            ).fetchone()
        if row is None or row["revoked"]:
            raise TokenRejected(expired=False)
        if row["expires_at"] is not None and row["expires_at"] <= time.time():
            raise TokenRejected(expired=True)
        client = self.store.client(row["client_id"])
        if client is None:
            raise TokenRejected(expired=False)
        return Principal(
            token,
            client["client_id"],
            client["kind"],
            row["user_id"],
            tuple(client["channels"]),
            frozenset(row["scope"].split()),
            row["family"],
        )

    def refresh(self, client: dict[str, Any], refresh_token: str, scope_text: str) -> Issued:
        """New tokens from a refresh token (never more scopes than it was granted)."""
        bad = GrantError("invalid_grant", "Invalid refresh token.")
        with self.store.db.write() as conn:
            row = conn.execute(
                "SELECT * FROM tokens WHERE token = ? AND kind = 'refresh'", (refresh_token,)
            ).fetchone()
            if row is None or row["revoked"] or row["client_id"] != client["client_id"]:
                raise bad
            if row["used"] and self.store.settings.rotate_refresh_tokens:
                conn.execute("UPDATE tokens SET revoked = 1 WHERE family = ?", (row["family"],))
                reused = True
            else:
                reused = False
                if self.store.settings.rotate_refresh_tokens:
                    conn.execute("UPDATE tokens SET used = 1 WHERE token = ?", (refresh_token,))
        if reused:  # raised after the commit so that the revocation sticks
            raise GrantError(
                "invalid_grant", "Invalid refresh token (already used: the session was revoked)."
            )
        granted = row["scope"].split()
        scopes = parse_scope(scope_text, PUBLIC_SCOPES) if scope_text.strip() else granted
        wider = [s for s in scopes if s not in granted]
        if wider:
            raise GrantError(
                "invalid_scope", f"A refresh cannot add scopes ({' '.join(wider)}); log in again."
            )
        return self.issue(client, row["user_id"], scopes, "refresh_token", row["family"])

    def revoke_family(self, family: str) -> None:
        with self.store.db.write() as conn:
            conn.execute("UPDATE tokens SET revoked = 1 WHERE family = ?", (family,))

    def expire_all(self) -> int:
        """Make every issued access token (API v2 ones too) expired; the number touched."""
        with self.store.db.write() as conn:
            return conn.execute(
                "UPDATE tokens SET expires_at = ? WHERE kind IN ('access', 'v2_access')",
                (time.time() - 1,),
            ).rowcount

    # -- authorization codes -----------------------------------------------------------
    def create_code(
        self,
        client_id: str,
        redirect_uri: str,
        user_id: str,
        scopes: list[str],
        challenge: str | None,
    ) -> str:
        code = "emu_ac_" + secrets.token_urlsafe(24)
        expires = time.time() + self.store.settings.code_lifetime
        with self.store.db.write() as conn:
            conn.execute(
                "INSERT INTO codes (code, client_id, redirect_uri, user_id, scope,"
                " challenge, expires_at) VALUES (?,?,?,?,?,?,?)",
                (code, client_id, redirect_uri, user_id, " ".join(scopes), challenge, expires),
            )
        return code

    def exchange_code(
        self, client: dict[str, Any], code: str, redirect_uri: str, verifier: str | None
    ) -> Issued:
        """Trade a code for tokens: single use, unexpired, same client and redirect_uri, PKCE.

        A ``code_verifier`` presented for a code issued without a challenge is refused
        (PKCE downgrade protection, RFC 9700 §2.1.1).
        """
        bad = GrantError("invalid_grant", "Invalid authorization code.")
        with self.store.db.write() as conn:
            row = conn.execute("SELECT * FROM codes WHERE code = ?", (code,)).fetchone()
            if row is None:
                raise bad
            if row["used"]:
                if row["family"]:  # replay: revoke what the first exchange issued (RFC 6749 §4.1.2)
                    conn.execute("UPDATE tokens SET revoked = 1 WHERE family = ?", (row["family"],))
                replay = True
            else:
                replay = False
                family = secrets.token_hex(8)
                conn.execute("UPDATE codes SET used = 1, family = ? WHERE code = ?", (family, code))
        if replay:
            raise GrantError("invalid_grant", "Invalid authorization code (already used).")
        if row["expires_at"] <= time.time():
            raise GrantError("invalid_grant", "Invalid authorization code (expired).")
        if row["client_id"] != client["client_id"]:
            raise bad
        if redirect_uri != row["redirect_uri"]:
            raise GrantError(
                "invalid_grant", "redirect_uri does not match the one of the authorization request."
            )
        if row["challenge"]:
            if not verifier:
                raise GrantError("invalid_grant", "Missing code_verifier (PKCE).")
            if not hmac.compare_digest(
                s256(verifier).encode(), row["challenge"].encode("utf-8", "replace")
            ):
                raise GrantError("invalid_grant", "Invalid code_verifier (PKCE).")
        elif verifier:
            raise GrantError(
                "invalid_grant",
                "code_verifier sent, but the authorization request had no code_challenge "
                "(PKCE downgrade refused).",
            )
        return self.issue(
            client, row["user_id"], row["scope"].split(), "authorization_code", family
        )
