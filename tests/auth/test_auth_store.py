"""Token stores: memory by default, keyring and a private file as opt-in (S-13)."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import ROOT

from dmtools.auth import (
    FileTokenStore,
    KeyringTokenStore,
    MemoryTokenStore,
    Token,
    TokenStoreError,
    token_key,
)
from dmtools.config import Endpoints
from dmtools.secrets import Secret


def make_token(n: int = 1) -> Token:
    return Token(
        access_token=Secret(f"AT-canary-{n:04d}"),
        refresh_token=Secret(f"RT-canary-{n:04d}"),
        expires_at=1_000_000.0 + n,
        scope=("manage_videos",),
        uid="x1",
        grant="password",
    )


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


def test_keys_separate_deployments_keys_and_accounts() -> None:
    real = Endpoints.dailymotion()
    sandbox = Endpoints.sandbox("http://127.0.0.1:8123")
    keys = {
        token_key(real, "k", "user:a"),
        token_key(sandbox, "k", "user:a"),
        token_key(real, "k2", "user:a"),
        token_key(real, "k", "user:b"),
    }
    assert len(keys) == 4


def test_memory_store_round_trip_and_delete() -> None:
    store = MemoryTokenStore()
    store.save("k", make_token())
    assert store.load("k") == make_token()
    store.delete("k")
    assert store.load("k") is None
    assert "canary" not in repr(store)


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_file_store_creates_a_0700_directory_and_a_0600_file(
    tmp_path: Path, umask: None, mask: int
) -> None:
    os.umask(mask)
    path = tmp_path / "conf" / "dmtools" / "tokens.json"
    store = FileTokenStore(path)
    store.save("k", make_token())
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert FileTokenStore(path).load("k") == make_token()
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp file left


def test_file_store_tightens_a_group_readable_file_on_load(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    FileTokenStore(path).save("k", make_token())
    os.chmod(path, 0o644)
    assert FileTokenStore(path).load("k") == make_token()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_store_tightens_an_open_directory(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    FileTokenStore(folder / "tokens.json").save("k", make_token())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_file_store_refuses_the_current_directory_and_git_work_trees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TokenStoreError, match="git work tree"):
        FileTokenStore(ROOT / "build" / "tokens.json")
    with pytest.raises(TokenStoreError, match="current directory"):
        FileTokenStore("tokens.json")


def test_default_file_location_is_the_user_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    store = FileTokenStore()
    assert store.path == (tmp_path / "xdg" / "dmtools" / "tokens.json").resolve()


def test_file_store_never_holds_tokens_in_repr_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    store.save("a", make_token(1))
    store.save("b", make_token(2))
    store.delete("a")
    data = json.loads(path.read_text())
    assert set(data["tokens"]) == {"b"}
    assert "canary" not in repr(store)


def test_file_store_keeps_every_update_from_concurrent_threads(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    threads = [
        threading.Thread(target=store.save, args=(f"k{n}", make_token(n))) for n in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(store.load(f"k{n}") == make_token(n) for n in range(16))


WRITER = textwrap.dedent("""
    import sys
    from dmtools.auth import FileTokenStore, Token
    from dmtools.secrets import Secret
    store = FileTokenStore(sys.argv[1])
    n = 0
    print("ready", flush=True)
    while True:
        n += 1
        store.save("k", Token(access_token=Secret("A" * 20000 + str(n)), grant="password"))
""")


def test_killing_a_writer_never_leaves_a_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    FileTokenStore(path).save("k", Token(access_token=Secret("initial-token"), grant="password"))
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, env=env, cwd=ROOT
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.05))  # a random point in the write loop, not a sync wait
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        token = FileTokenStore(path).load("k")
        assert token is not None and token.access_token.reveal()[:1] in {"i", "A"}


class _MemoryKeyring:
    """A keyring backend keeping passwords in a dict (the real ones need a desktop session)."""

    priority = 5

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.data.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.data[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.data.pop((service, user), None) is None:
            raise PasswordDeleteError("not found")


def test_keyring_store_refuses_the_fail_and_null_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail, null

    for backend in (fail.Keyring(), null.Keyring()):
        monkeypatch.setattr(keyring, "get_keyring", lambda b=backend: b)
        with pytest.raises(TokenStoreError, match="refusing"):
            KeyringTokenStore()


def test_keyring_store_refuses_a_plaintext_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    plaintext = type("PlaintextKeyring", (_MemoryKeyring,), {})()
    monkeypatch.setattr(keyring, "get_keyring", lambda: plaintext)
    with pytest.raises(TokenStoreError, match="PlaintextKeyring"):
        KeyringTokenStore()


def test_keyring_store_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    backend = _MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    for name in ("get_password", "set_password", "delete_password"):
        monkeypatch.setattr(keyring, name, getattr(backend, name))
    store = KeyringTokenStore()
    store.save("k", make_token())
    assert store.load("k") == make_token()
    store.delete("k")
    store.delete("k")
    assert store.load("k") is None and backend.data == {}
