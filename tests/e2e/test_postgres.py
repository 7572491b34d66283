"""The bot on PostgreSQL, through the sandbox's public command line: the same session answers the
same as on SQLite, and `python -m bot migrate --to postgresql://…` moves a SQLite database over with
every table's row count checked, after which the bot answers `/recap`, `/progress show` and
`/watchparty list` as before. (Skipped with one line where no PostgreSQL answers; see tests/backends.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.backends import Target, target

NOW = "2026-11-27T00:00:00Z"
SETUP = (
    ":as mod",
    "/settings timezone name:Asia/Seoul",
    "/follow add drama:queen-of-tears",
    '/watchparty schedule drama:queen-of-tears episodes:3-4 start:"2026-12-05 20:00"',
    '/watchparty schedule drama:queen-of-tears episodes:5 start:"2026-12-12 20:00"',
    ":as member",
    "/progress set drama:queen-of-tears episode:3",
    "/progress set drama:lovely-runner episode:8",
)
CHECK = (
    ":as member",
    "/progress show",
    "/recap drama:queen-of-tears episode:2",
    "/recap drama:queen-of-tears episode:9",
    "/watchparty list",
    "/who query:hong-hae-in",
)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL", "DATABASE_PATH")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def sandbox(db: str, lines: tuple[str, ...], cwd: Path) -> list[dict[str, Any]]:
    args = ["sandbox", "--json", "--db", db, "--now", NOW]
    for line in lines:
        args += ["-c", line]
    proc = run(*args, cwd=cwd)
    results = [json.loads(row) for row in proc.stdout.splitlines() if row.strip()]
    assert proc.returncode == 0, (proc.stderr[-2000:], [r.get("error") for r in results])
    assert len(results) == len(lines)
    return results


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[Target]:
    async with target("postgresql", tmp_path / "unused.db") as where:
        yield where


def answers(results: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What each line answered (not the wire requests, whose interaction ids and tokens are random)."""
    return [(r["input"], r.get("response"), r.get("followups"), r.get("error")) for r in results]


def text_of(result: dict[str, Any]) -> str:
    return json.dumps(result.get("response"), ensure_ascii=False)


@pytest.mark.postgresql
async def test_one_session_answers_the_same_on_sqlite_and_postgresql(tmp_path: Path, pg: Target) -> None:
    lines = SETUP + CHECK
    on_sqlite, on_postgres = await asyncio.gather(
        asyncio.to_thread(sandbox, str(tmp_path / "s.db"), lines, tmp_path),
        asyncio.to_thread(sandbox, pg.url, lines, tmp_path),
    )
    assert answers(on_postgres) == answers(on_sqlite)
    progress = text_of(on_postgres[len(SETUP) + 1])
    assert "episode 3/16" in progress and "episode 8/16" in progress
    listed = text_of(on_postgres[len(SETUP) + 4])
    assert "#1" in listed and "#2" in listed


@pytest.mark.postgresql
async def test_migrate_to_postgresql_copies_every_row_and_the_bot_answers_as_before(tmp_path: Path, pg: Target) -> None:
    db = tmp_path / "dramawatch.db"
    await asyncio.to_thread(sandbox, str(db), SETUP, tmp_path)
    before = await asyncio.to_thread(sandbox, str(db), CHECK, tmp_path)

    moved = await asyncio.to_thread(run, "migrate", "--db", str(db), "--to", pg.url, cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    counts = {m[1]: (int(m[2].replace(",", "")), int(m[3].replace(",", ""))) for m in COUNT.finditer(moved.stdout)}
    assert counts["progress"] == (2, 2)
    assert counts["watch_parties"] == (2, 2)
    assert counts["follows"] == (1, 1)
    assert counts["guild_settings"][0] >= 1 and counts["jobs"][0] >= 1 and counts["catalog_packs"][0] >= 4
    assert all(source == copied for source, copied in counts.values())
    with sqlite3.connect(db) as conn:  # every table, not only those the session wrote
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(counts) == tables

    after = await asyncio.to_thread(sandbox, pg.url, CHECK, tmp_path)
    assert answers(after) == answers(before)
    # New rows on PostgreSQL get new ids after the copied ones (the identity sequences moved on).
    third = await asyncio.to_thread(
        sandbox,
        pg.url,
        (":as mod", '/watchparty schedule drama:queen-of-tears episodes:6 start:"2026-12-19 20:00"'),
        tmp_path,
    )
    assert "#3" in text_of(third[1])

    again = await asyncio.to_thread(run, "migrate", "--db", str(db), "--to", pg.url, cwd=tmp_path)
    assert again.returncode == 1
    assert "already holds rows" in again.stderr and "watch_parties (3)" in again.stderr


COUNT = re.compile(r"^\s+([a-z_]+)\s+([\d,]+) → ([\d,]+)$", re.M)


def test_migrate_to_refuses_what_is_not_a_postgresql_url(tmp_path: Path) -> None:
    proc = run("migrate", "--db", str(tmp_path / "x.db"), "--to", "mysql://somewhere/db", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--to takes a PostgreSQL URL" in proc.stderr
