"""A job killed with SIGKILL at random points resumes to completion: 0 lost, 0 applied twice."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest
from _support import ROOT
from _support.dialects import DIALECTS, connect_options, load_channel, login

from dmtools.bulk import plan_edits
from dmtools.bulk.journal import Journal
from dmtools.dialects.legacy import LEGACY
from dmtools.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

WORKERS = 4
CHILD = """
import json, sys
import dmtools as dm
from dmtools.bulk import EditPlan

cfg = json.loads(sys.argv[1])
client = dm.connect(endpoints=dm.Endpoints.sandbox(cfg["url"]), **cfg["login"])
plan = EditPlan.load(cfg["plan"])
print("start", flush=True)
result = plan.apply(client, journal=cfg["journal"], workers=cfg["workers"],
                    progress=lambda done, total: print(done, flush=True))
print("finished", json.dumps(result.counts()), flush=True)
"""


def run_child(cfg: dict[str, object], kill_at: int | None) -> str:
    """Run the job in a child; SIGKILL it once ``kill_at`` operations are done in total."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(cfg)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    last = ""
    for line in child.stdout:
        last = line.strip()
        if kill_at is not None and last.isdigit() and int(last) >= kill_at:
            child.send_signal(signal.SIGKILL)
            break
    child.stdout.close()
    child.wait(timeout=60)
    return last


@pytest.mark.parametrize("dialect", DIALECTS)
def test_killed_job_resumes_without_loss_or_double_apply(tmp_path, dialect: str) -> None:
    # 1,000 videos to edit: the demo channel (legacy), the archive profile (v2: 4/5 of 1,250)
    with Sandbox(videos=1000 if dialect == "legacy" else 1250, seed=13) as sb:
        with login(sb, dialect) as client:
            df = load_channel(client, progress=False)
        edited = df.copy()
        edited["title"] = [f"{t[:80]} · resumed" for t in df["title"]]
        edited["private"] = ~df["private"].astype(bool)
        plan = plan_edits(df, edited)
        assert len(plan) == 1000
        journal = tmp_path / "kill.journal"
        cfg = {
            "url": sb.url,
            "login": connect_options(sb, dialect),
            "plan": str(plan.save(tmp_path / "plan.json")),
            "journal": str(journal),
            "workers": WORKERS,
        }
        sb.set_faults(latency=0.002)  # requests in flight when the kill lands
        commits_before = len(sb.commits())
        rng = random.Random(20240601)
        kill_points = sorted(rng.sample(range(20, 980), 5))
        in_doubt_after_kills = 0
        for point in kill_points:
            run_child(cfg, kill_at=point)
            raw = sqlite3.connect(journal)
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            raw.close()
            with Journal.open(journal) as store:
                states = store.counts()
            assert states.get("applied", 0) >= point - WORKERS
            doubt = states.get("sending", 0) + states.get("in_doubt", 0)
            # resume reads back at most one batch per request in flight
            assert doubt <= WORKERS * LEGACY.batch_call_size
            in_doubt_after_kills += doubt
        assert in_doubt_after_kills > 0  # the kills did land between "sending" and the outcome
        last = run_child(cfg, kill_at=None)
        sb.clear_faults()
        assert last.startswith("finished")
        assert json.loads(last.split(" ", 1)[1])["applied"] == 1000

        with Journal.open(journal) as store:
            assert store.counts() == {"applied": 1000}
            assert store.integrity_check() == "ok"
        commits = sb.commits()[commits_before:]
        per_field = Counter((c["video_id"], name) for c in commits for name in c["fields"])
        assert len(per_field) == 2000 and max(per_field.values()) == 1  # 0 double, 0 lost
        stored = {vid: sb.get_video(vid) for vid in df.index[::97]}
        for vid, video in stored.items():
            assert video is not None and video["title"] == edited.loc[vid, "title"]
