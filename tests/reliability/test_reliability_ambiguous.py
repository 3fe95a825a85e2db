"""R-02, the ambiguous-outcome protocol as a table: every ambiguous fault x every server state.

A write that fails after it was sent (reset, timeout, truncated answer, 500/502/504) may or
may not have happened. The client reads the video back exactly once and decides by what the
server holds: the target → ``applied`` (nothing resent); the values from before the write →
resent once; anything else → ``conflict`` with no further write.

``tests/bulk/test_bulk_faults.py`` covers the states each fault produces by itself (a fault after
the commit leaves the target, one before it the old value). Here a third party also changes
the video between the failed write and the read-back, so that every fault meets every state.
The sandbox cannot time a change that precisely, so the test wraps the client's ``get``: the
change is made (through the sandbox's admin API, not as a client write) just before the
read-back is sent. Deletes get the same table with the states "gone" and "still there".
Both tables run on both API dialects (a ``POST`` on the legacy API, a ``PATCH`` on API v2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from _support.dialects import EDIT_METHOD, VIDEO_PATH, load_channel
from _support.reliability import HOLD, last_seq, scaled_client, settled_requests

import dmtools as dm
from dmtools.bulk import plan_deletes, plan_edits
from dmtools.dialects import Call
from dmtools.sandbox import Sandbox

#: fault name -> (rule for the first write, did the write happen?)
FAULTS: dict[str, tuple[dict[str, Any], bool]] = {
    "reset-before": ({"kind": "reset", "after_commit": False}, False),
    "reset-after": ({"kind": "reset", "after_commit": True}, True),
    "timeout": ({"kind": "hold", "seconds": HOLD}, True),
    "truncated": ({"kind": "truncate"}, True),
    "500-before": ({"kind": "status", "status": 500, "after_commit": False}, False),
    "500-after": ({"kind": "status", "status": 500, "after_commit": True}, True),
    "502-html": ({"kind": "status", "status": 502, "html": True}, False),
    "504-after": ({"kind": "status", "status": 504, "after_commit": True}, True),
}
THIRD = "Changed by someone else"

#: server state at the read-back -> (final status, writes sent in all)
EXPECTED = {
    "target": ("applied", 1),
    "before": ("applied", 2),
    "third": ("conflict", 1),
}


#: A video's path as the client's calls name it (under the API base), by dialect; the sandbox
#: logs it as ``VIDEO_PATH`` says.
CALL_PATH = {"legacy": "/video/{}", "v2": "/videos/{}"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=80, seed=31) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def df(sb: Sandbox, dialect: str) -> pd.DataFrame:
    with scaled_client(sb, dialect=dialect) as client:
        return load_channel(client, progress=False)


_used: set[str] = set()


def fresh_video(df: pd.DataFrame) -> str:
    """A video no earlier case of this module touched."""
    vid = next(v for v in df.index if v not in _used)
    _used.add(vid)
    return str(vid)


def before_nth_get(client: dm.Client, path: str, n: int, action: Callable[[], object]) -> None:
    """Run ``action`` just before the client's ``n``-th GET of ``path``."""
    real_send = client.send
    seen = Counter[str]()

    def send(call: Call) -> Any:
        if call.method == "GET":
            seen[call.path] += 1
            if call.path == path and seen[call.path] == n:
                action()
        return real_send(call)

    client.send = send  # type: ignore[method-assign]


def video_requests(sb: Sandbox, since: int, client: dm.Client, vid: str) -> list[str]:
    """Methods of the requests for the video (held answers included, once logged)."""
    logged = settled_requests(sb, since, client.transport.stats["sent"])
    path = VIDEO_PATH[client.dialect.name].format(vid)
    return [r["method"] for r in logged if r["path"] == path]


def client_commits(sb: Sandbox, since: int, vid: str) -> int:
    return sum(c["video_id"] == vid for c in sb.commits()[since:])


@pytest.mark.parametrize("state", list(EXPECTED))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_an_ambiguous_edit_is_read_back_once_and_settled_by_the_server_state(
    sb, df, dialect, fault, state
):
    rule, committed = FAULTS[fault]
    vid = fresh_video(df)
    old, new = str(df.at[vid, "title"]), f"R-02 {fault} {state}"
    edited = df.copy()
    edited.loc[vid, "title"] = new
    plan = plan_edits(df, edited)
    assert len(plan) == 1
    at_read_back = {"target": new, "before": old, "third": THIRD}[state]
    write, path = EDIT_METHOD[dialect], VIDEO_PATH[dialect].format(vid)
    with scaled_client(sb, dialect=dialect) as client:
        # GET 1 is the compare-before-write, GET 2 the read-back after the failed write
        change = lambda: sb.edit_video(vid, title=at_read_back)  # noqa: E731
        before_nth_get(client, CALL_PATH[dialect].format(vid), 2, change)
        sb.set_faults(seed=1, rules=[{**rule, "methods": [write], "at": [1], "path": f"^{path}$"}])
        start, commits = last_seq(sb), len(sb.commits())
        try:
            result = plan.apply(client, workers=1, progress=False)
        finally:
            sb.clear_faults()
        methods = video_requests(sb, start, client, vid)
    status, posts = EXPECTED[state]
    row = result.to_frame().loc[vid]
    assert (row["op_status"], row["attempts"]) == (status, posts), row["message"]
    assert Counter(methods) == {"GET": 2, write: posts}  # 1 read-back
    assert client_commits(sb, commits, vid) == int(committed) + posts - 1
    video = sb.get_video(vid)
    assert video is not None
    assert video["title"] == (THIRD if state == "third" else new)
    if state == "third":
        assert row["error_type"] == "Conflict" and THIRD[:20] in row["message"]


DELETE_CASES = [(name, "gone") for name in FAULTS] + [
    (name, "still there") for name, (_, committed) in FAULTS.items() if not committed
]


@pytest.mark.parametrize("fault, state", DELETE_CASES)
def test_an_ambiguous_delete_is_read_back_once_and_resent_only_if_the_video_is_there(
    sb, df, dialect, fault, state, tmp_path
):
    rule, committed = FAULTS[fault]
    vid = fresh_video(df)
    plan = plan_deletes([vid], snapshot=df)
    path = VIDEO_PATH[dialect].format(vid)
    with scaled_client(sb, dialect=dialect) as client:
        if not committed and state == "gone":  # someone else deleted it meanwhile
            before_nth_get(client, CALL_PATH[dialect].format(vid), 1, lambda: sb.delete_video(vid))
        sb.set_faults(
            seed=1, rules=[{**rule, "methods": ["DELETE"], "at": [1], "path": f"^{path}$"}]
        )
        start = last_seq(sb)
        try:
            result = plan.apply(
                client, confirm=1, force=True, progress=False, export_path=tmp_path / "deleted.json"
            )
        finally:
            sb.clear_faults()
        methods = video_requests(sb, start, client, vid)
    deletes = 1 if state == "gone" else 2
    row = result.to_frame().loc[vid]
    assert (row["op_status"], row["attempts"]) == ("deleted", deletes), row["message"]
    assert Counter(methods) == {"GET": 1, "DELETE": deletes}
    assert sb.get_video(vid) is None
