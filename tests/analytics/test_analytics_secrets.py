"""No secret leaks from the analytics paths: logs at DEBUG, errors, the state file, the
command's output and files hold no access token, client secret or password."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from analytics_support import cli, client, load

import dmtools as dm
from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=40, seed=17) as sandbox:
        yield sandbox


def test_logs_errors_state_and_outputs_hold_no_secret(
    sb: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dmtools")
    state = tmp_path / "reports.sqlite"
    seen: list[str] = []
    with client(sb) as c:
        tokens = {c.transport.auth.access_token()}  # type: ignore[union-attr]
        sb.set_faults(seed=1, rules=[{"kind": "status", "status": 503, "path": "^/graphql",
                                      "at": [1]}])  # fmt: skip
        load(sb, c, "views", "day video_id", start="2026-02-01", end="2026-02-10", state=state)
        sb.clear_faults()
        sb.fail_next_reports(2)
        with pytest.raises(dm.ReportError) as failed:
            load(sb, c, "views", "day", start="2026-02-01", end="2026-02-10", state=state)
        key = sb.credentials.private_key.client_id
        sb.set_report_permissions(key, ["create_reports"])
        with pytest.raises(dm.PermissionDenied) as refused:
            load(sb, c, "estimated_earnings_eur", "day", start="2026-02-01", end="2026-02-02")
        sb.set_report_permissions(key, [*dm.analytics.SCOPES, "delete_reports"])
        sb.expire_tokens()
        load(sb, c, "views", "day", start="2026-03-01", end="2026-03-02")  # a renewed token
        tokens.add(c.transport.auth.access_token())  # type: ignore[union-attr]
        seen += [str(e.value) + repr(e.value) for e in (failed, refused)]
    sb.settings(report_delay=0)  # the command waits in real time
    result = cli(sb, tmp_path, "-vv", "analytics", tmp_path / "out.csv", "--days", "3")
    assert result.exit_code == 0, result.stderr
    seen += [caplog.text, result.stdout, result.stderr, (tmp_path / "out.csv").read_text()]
    seen += [state.read_bytes().decode("latin-1")]
    secrets = {*tokens, sb.credentials.private_key.client_secret, sb.credentials.user.password}
    assert len(tokens) == 2 and all(len(s) > 8 for s in secrets)
    assert "Reporting API" in caplog.text or "report" in caplog.text  # the logs were captured
    leaks = [s for s in secrets for text in seen if s in text]
    assert leaks == []
