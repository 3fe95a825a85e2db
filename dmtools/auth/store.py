"""Where tokens are kept between calls: memory (default), the OS keyring, or a private file.

Stored tokens are keyed by deployment, API key and account (:func:`token_key`), so tokens
from a sandbox and from the real service never mix. Passwords are never stored.

Example:
    >>> store = MemoryTokenStore()
    >>> store.load("https://api.dailymotion.com|key|user:alice") is None
    True
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from dmtools._safefiles import atomic_write
from dmtools.config import Endpoints
from dmtools.errors import InputError, TokenStoreError

from .token import Token

__all__ = [
    "FileTokenStore",
    "KeyringTokenStore",
    "MemoryTokenStore",
    "TokenStore",
    "TokenStoreError",
    "token_key",
]

log = logging.getLogger("dmtools.auth")


def token_key(endpoints: Endpoints, client_id: str, subject: str) -> str:
    """The storage key of a session: deployment, API key and account, e.g. ``user:alice``.

    Example:
        >>> token_key(Endpoints.dailymotion(), "key", "user:alice")
        'https://api.dailymotion.com|key|user:alice'
    """
    return f"{endpoints.host_key}|{client_id}|{subject}"


@runtime_checkable
class TokenStore(Protocol):
    """What a token store does. Implementations must be thread-safe."""

    def load(self, key: str) -> Token | None: ...

    def save(self, key: str, token: Token) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryTokenStore:
    """Tokens in this process only (the default).

    Example:
        >>> store = MemoryTokenStore()
    """

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryTokenStore({len(self._tokens)} token(s))"

    def load(self, key: str) -> Token | None:
        with self._lock:
            return self._tokens.get(key)

    def save(self, key: str, token: Token) -> None:
        with self._lock:
            self._tokens[key] = token

    def delete(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)


_UNSAFE_BACKENDS = ("fail", "null", "plaintext", "uncrypted", "unencrypted")


def _check_keyring_backend(backend: Any) -> None:
    members = getattr(backend, "backends", None)
    candidates = list(members) if members is not None else [backend]
    if not candidates:
        raise TokenStoreError("no usable keyring backend is available")
    for candidate in candidates:
        kind = f"{type(candidate).__module__}.{type(candidate).__name__}".lower()
        priority = getattr(candidate, "priority", 1)
        if any(word in kind for word in _UNSAFE_BACKENDS) or priority <= 0:
            raise TokenStoreError(
                f"refusing to store tokens in keyring backend {type(candidate).__name__}: it "
                "does not keep secrets safely; configure a system keyring or use FileTokenStore"
            )


class KeyringTokenStore:
    """Tokens in the operating system's keyring (the ``keyring`` package).

    Refuses the fail, null and plaintext backends rather than store silently nowhere or in
    clear text.

    Example:
        >>> store = KeyringTokenStore()          # doctest: +SKIP
    """

    def __init__(self, service: str = "dmtools") -> None:
        try:
            import keyring
        except ImportError:
            raise TokenStoreError("KeyringTokenStore needs the 'keyring' package") from None
        _check_keyring_backend(keyring.get_keyring())
        self._keyring = keyring
        self.service = service

    def __repr__(self) -> str:
        return f"KeyringTokenStore(service={self.service!r})"

    def load(self, key: str) -> Token | None:
        raw = self._keyring.get_password(self.service, key)
        if not raw:
            return None
        try:
            return Token.from_dict(json.loads(raw))
        except (ValueError, InputError):
            log.warning("ignoring an unreadable token in the keyring")
            return None

    def save(self, key: str, token: Token) -> None:
        self._keyring.set_password(self.service, key, json.dumps(token.to_dict()))

    def delete(self, key: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._keyring.delete_password(self.service, key)
        except PasswordDeleteError:
            pass


def default_token_path() -> Path:
    """``tokens.json`` in the user's config directory (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("dmtools", appauthor=False)) / "tokens.json"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_location(path: Path) -> None:
    default_dir = default_token_path().parent.resolve()
    if _inside(path, Path.cwd().resolve()) and not _inside(path, default_dir):
        raise TokenStoreError(
            f"refusing to keep tokens at {path}: it is inside the current directory, where "
            "they could end up shared or committed; use the default location"
        )
    for folder in path.parents:
        if (folder / ".git").exists():
            raise TokenStoreError(
                f"refusing to keep tokens at {path}: it is inside the git work tree {folder}"
            )


class FileTokenStore:
    """Tokens in a JSON file readable by you only.

    The directory is 0700 and the file 0600; each save writes a new file next to the old
    one and renames it over the old one (:func:`dmtools._safefiles.atomic_write`: created
    ``O_EXCL`` with mode 0600, fsynced), so the file is always a complete old or new
    version. Saves hold a lock on the folder, so a temporary file found by the next load or
    save was left by a killed writer: it is removed then. A file readable by others is
    tightened to 0600 when loaded. The path may not be inside the current directory or a
    git work tree.

    Args:
        path: the file; default ``tokens.json`` in the user config directory.

    Example:
        >>> store = FileTokenStore()             # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        target = Path(path).expanduser() if path is not None else default_token_path()
        self.path = target.parent.resolve() / target.name
        _check_location(self.path)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def load(self, key: str) -> Token | None:
        with self._lock:
            if self.path.parent.is_dir():
                with _FolderLock(self.path.parent, wait=False) as held:
                    held.sweep(self.path.name)
            entry = self._read().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            return Token.from_dict(entry)
        except InputError:
            log.warning("ignoring an unreadable token in %s", self.path)
            return None

    def save(self, key: str, token: Token) -> None:
        with self._lock, _FolderLock(self._directory()) as held:
            held.sweep(self.path.name)
            tokens = self._read()
            tokens[key] = token.to_dict()
            self._write(tokens)

    def delete(self, key: str) -> None:
        with self._lock, _FolderLock(self._directory()) as held:
            held.sweep(self.path.name)
            tokens = self._read()
            if tokens.pop(key, None) is not None:
                self._write(tokens)

    def _directory(self) -> Path:
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
        if info.st_uid != os.geteuid():
            raise TokenStoreError(f"refusing to keep tokens in {folder}: owned by another user")
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(folder, 0o700)
        return folder

    def _read(self) -> dict[str, Any]:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return {}
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.geteuid():
                raise TokenStoreError(f"refusing {self.path}: owned by another user")
            if stat.S_IMODE(info.st_mode) & 0o077:
                os.fchmod(handle.fileno(), 0o600)
                log.warning("%s was readable by others; its mode is now 0600", self.path)
            raw = handle.read()
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError:
            log.warning("ignoring unreadable token file %s", self.path)
            return {}
        tokens = data.get("tokens") if isinstance(data, dict) else None
        return dict(tokens) if isinstance(tokens, dict) else {}

    def _write(self, tokens: dict[str, Any]) -> None:
        self._directory()
        payload = json.dumps({"version": 1, "tokens": tokens}, indent=1).encode("utf-8")
        atomic_write(self.path, payload, mode=0o600, fsync=True)


_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{16}\.tmp")


class _FolderLock:
    """An exclusive ``flock`` on the token folder, held while a save writes its temporary
    file and renames it. Whoever holds it knows that any temporary file of the store it
    finds was left by a writer that was killed, and removes it (:meth:`sweep`)."""

    def __init__(self, folder: Path, *, wait: bool = True) -> None:
        self.folder = folder
        self.wait = wait
        self.held = False
        self._fd: int | None = None

    def __enter__(self) -> _FolderLock:
        try:
            import fcntl

            self._fd = os.open(self.folder, os.O_RDONLY)
            fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
            self.held = True
        except (ImportError, OSError):  # no flock here, or another process is saving
            self.held = False
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None

    def sweep(self, name: str) -> None:
        """Remove the temporary files of ``name`` that killed writers left behind."""
        if not self.held:
            return
        for entry in os.scandir(self.folder):
            found = _TEMPORARY.fullmatch(entry.name)
            if found and found.group("name") == name and entry.is_file(follow_symlinks=False):
                log.info("removing %s, left by a save that did not finish", entry.name)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
