"""The sandbox's public command line: `python -m bot sandbox --json -c …` (a stable interface)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_sandbox(*lines: str, cwd: Path, extra: tuple[str, ...] = ()) -> tuple[int, list[dict], str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    args = [sys.executable, "-m", "bot", "sandbox", *extra, "--json"]
    for line in lines:
        args += ["-c", line]
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    results = [json.loads(row) for row in proc.stdout.splitlines() if row.strip()]
    return proc.returncode, results, proc.stderr


def test_help_prints_a_type_4_response(tmp_path: Path) -> None:
    code, results, stderr = run_sandbox("/help", cwd=tmp_path)
    assert code == 0, stderr
    (result,) = results
    assert set(result) == {"input", "response", "followups", "requests", "error"}
    assert result["input"] == "/help" and result["error"] is None
    response = result["response"]
    assert set(response) >= {"type", "content", "embeds", "components", "ephemeral"}
    assert response["type"] == 4
    assert "/help" in json.dumps(response["embeds"])
    assert result["requests"][0]["method"] == "POST" and result["requests"][0]["path"].endswith("/callback")
    assert "Traceback" not in stderr


def test_member_refused_mod_allowed_and_show_reports_it(tmp_path: Path) -> None:
    code, results, stderr = run_sandbox(
        ":as member",
        "/settings timezone name:Asia/Seoul",
        ":as mod",
        "/settings timezone name:Asia/Seoul",
        "/settings show",
        cwd=tmp_path,
    )
    assert code == 0, stderr
    assert results[0] == {"input": ":as member", "result": {"user": "alice"}, "error": None}
    refused = results[1]["response"]
    assert refused["ephemeral"] and "moderators" in refused["content"]
    assert "Asia/Seoul" in results[3]["response"]["content"]
    assert "`Asia/Seoul`" in json.dumps(results[4]["response"]["embeds"])


def test_state_persists_in_db_and_now_sets_the_clock(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    code, _, stderr = run_sandbox(
        ":as mod", "/settings timezone name:Europe/London", cwd=tmp_path, extra=("--db", str(db))
    )
    assert code == 0, stderr
    code, results, stderr = run_sandbox(
        ":as mod", "/settings show", ":now", cwd=tmp_path, extra=("--db", str(db), "--now", "2026-11-27T00:00:00Z")
    )
    assert code == 0, stderr
    assert "Europe/London" in json.dumps(results[1]["response"]["embeds"])
    assert results[2]["result"]["now"] == "2026-11-27T00:00:00+00:00"


@pytest.mark.parametrize(
    ("line", "needle"),
    [("/nope", "unknown command"), (":frobnicate", "unknown meta line"), ("/settings", "needs a subcommand")],
)
def test_a_failing_line_exits_1_and_says_why(tmp_path: Path, line: str, needle: str) -> None:
    code, results, stderr = run_sandbox("/help", line, cwd=tmp_path)
    assert code == 1
    assert results[0]["error"] is None
    assert needle in results[1]["error"]
    assert "Traceback" not in stderr


def test_bad_now_is_a_clear_usage_error(tmp_path: Path) -> None:
    code, results, stderr = run_sandbox("/help", cwd=tmp_path, extra=("--now", "tomorrow"))
    assert code == 2 and results == []
    assert "--now" in stderr and "Traceback" not in stderr


def test_guilds_and_shards_options(tmp_path: Path) -> None:
    code, results, err = run_sandbox(
        ":guild 3",
        ":as mod",
        "/settings channel kind:mods channel:#mods",
        cwd=tmp_path,
        extra=("--guilds", "3", "--shards", "2"),
    )
    assert code == 0, err
    assert results[0]["result"]["guild"] == "Drama Club 3"
    assert "mods" in results[2]["response"]["content"]
    code, results, err = run_sandbox(":guild 2", cwd=tmp_path)
    assert code == 1 and results[0]["error"] == ":guild takes a server's number, 1 to 1"
    code, _, err = run_sandbox("/help", cwd=tmp_path, extra=("--guilds", "0"))
    assert code == 2 and "--guilds: give a number of servers from 1 to 1000" in err
