"""The command line, run as a user runs it: `python -m bot …` in a fresh directory, without a token."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.database import load_migrations

SETTINGS_VARIABLES = (
    "DISCORD_TOKEN",
    "DATABASE_PATH",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "DISCORD_API_BASE",
    "DISCORD_GATEWAY_URL",
)
LATEST = load_migrations()[-1].number


def run_cli(cwd: Path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dramawatch: error: ")
    for needle in needles:
        assert needle in lines[0]


def test_run_without_a_token_exits_2_and_names_discord_token(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run")
    assert_one_line_error(result, "DISCORD_TOKEN", "python -m bot sandbox")
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing created on the way out


def test_no_subcommand_means_run(tmp_path: Path) -> None:
    assert_one_line_error(run_cli(tmp_path), "DISCORD_TOKEN")


def test_migrate_creates_the_database_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "nested" / "dir" / "bot.db"
    first = run_cli(tmp_path, "migrate", "--db", str(db_path))
    assert first.returncode == 0, first.stderr
    assert "applied migration(s) 0001" in first.stdout
    assert f"now at version {LATEST}" in first.stdout
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"guild_settings", "jobs"} <= tables

    second = run_cli(tmp_path, "migrate", "--db", str(db_path))
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert "applied" not in second.stdout


def test_migrate_uses_database_path_from_the_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_PATH=state/from-dotenv.db\n", encoding="utf-8")
    result = run_cli(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "state" / "from-dotenv.db").is_file()


def test_migrate_to_an_impossible_path_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    result = run_cli(tmp_path, "migrate", "--db", str(tmp_path / "afile" / "bot.db"))
    assert_one_line_error(result, "--db", "cannot create the directory")


@pytest.mark.parametrize(
    ("name", "value"),
    [("DEV_GUILD_ID", "not-a-number"), ("LOG_LEVEL", "LOUD"), ("DISCORD_GATEWAY_URL", "https://x")],
)
def test_bad_setting_is_one_line_naming_the_variable(tmp_path: Path, name: str, value: str) -> None:
    result = run_cli(tmp_path, "migrate", "--db", str(tmp_path / "bot.db"), **{name: value, "DISCORD_TOKEN": "t0k3n"})
    assert_one_line_error(result, name)
    assert "t0k3n" not in result.stderr
    assert not (tmp_path / "bot.db").exists()  # it stopped before doing anything


def test_bad_setting_in_env_file_is_reported_the_same_way(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DEV_GUILD_ID=12ab\n", encoding="utf-8")
    assert_one_line_error(run_cli(tmp_path, "run"), "DEV_GUILD_ID")


def test_backup_copies_the_database(tmp_path: Path) -> None:
    source = tmp_path / "bot.db"
    assert run_cli(tmp_path, "migrate", "--db", str(source)).returncode == 0
    with sqlite3.connect(source) as conn:
        conn.execute(
            "INSERT INTO guild_settings (guild_id, key, value, updated_at) VALUES (1, 'timezone', '\"Asia/Seoul\"', 0)"
        )

    copy = tmp_path / "backups" / "copy.db"
    result = run_cli(tmp_path, "backup", str(copy), "--db", str(source))
    assert result.returncode == 0, result.stderr
    assert f"Backed up {source} to {copy}" in result.stdout
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert conn.execute("SELECT key, value FROM guild_settings").fetchall() == [("timezone", '"Asia/Seoul"')]

    # An existing copy is not overwritten without --force.
    again = run_cli(tmp_path, "backup", str(copy), "--db", str(source))
    assert_one_line_error(again, "already exists", "--force")
    forced = run_cli(tmp_path, "backup", str(copy), "--db", str(source), "--force")
    assert forced.returncode == 0, forced.stderr


def test_backup_of_a_missing_database_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "backup", str(tmp_path / "copy.db"), "--db", str(tmp_path / "missing.db"))
    assert_one_line_error(result, "no database at")
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "COMMAND"),
        (("run",), "DISCORD_TOKEN"),
        (("sandbox",), "--json"),
        (("sync",), "--guild"),
        (("migrate",), "--db"),
        (("backup",), "--force"),
    ],
)
def test_help_exits_0(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    result = run_cli(tmp_path, *args, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: dramawatch")
    assert expected in result.stdout


def test_unknown_subcommand_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr
