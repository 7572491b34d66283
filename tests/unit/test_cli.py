"""The command line, run as a user runs it: `python -m bot …` in a fresh directory, without a token."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

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


def cli_env(**env_overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(env_overrides)
    return env


def run_cli(cwd: Path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    return run_cli_within(60, cwd, *args, **env_overrides)


def run_cli_within(timeout: float, cwd: Path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI; a run that outlives `timeout` seconds fails the test (subprocess.TimeoutExpired)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=cli_env(**env_overrides),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> None:
    assert result.returncode == code, result.stderr
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


# -- start-up failures: one line and an exit within seconds, never a traceback or a hang ------------------------
TOKEN = "MTAx.fake.t0k3n-for-tests"
UNREACHABLE = "http://127.0.0.1:1"  # nothing listens on port 1


def random_bytes_database(path: Path) -> Path:
    path.write_bytes(random.Random(7).randbytes(64 * 1024))
    return path


def damaged_database(path: Path) -> Path:
    """A real database (the right header) whose first page, the schema, is overwritten with noise."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(str(n) * 50,) for n in range(500)])
    conn.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = random.Random(7).randbytes(3996)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("make", [random_bytes_database, damaged_database])
def test_migrate_of_a_corrupt_database_is_one_line_and_exit_2_within_5_s(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    path = make(tmp_path / "corrupt.db")
    result = run_cli_within(5, tmp_path, "migrate", "--db", str(path))
    assert_one_line_error(result, str(path), "is damaged or is not a SQLite database", "restore a backup")


@pytest.mark.parametrize("command", ["run", "sync"])
def test_a_corrupt_database_stops_the_bot_before_it_connects(tmp_path: Path, command: str) -> None:
    path = random_bytes_database(tmp_path / "corrupt.db")
    result = run_cli_within(
        5, tmp_path, command, DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(path), DISCORD_API_BASE=UNREACHABLE
    )
    assert_one_line_error(result, str(path), "is damaged or is not a SQLite database")


def test_backup_of_a_corrupt_database_is_one_clear_line(tmp_path: Path) -> None:
    path = random_bytes_database(tmp_path / "corrupt.db")
    result = run_cli_within(5, tmp_path, "backup", str(tmp_path / "copy.db"), "--db", str(path))
    assert_one_line_error(result, "is damaged or is not a SQLite database")


@pytest.mark.parametrize("command", ["run", "sync"])
def test_discord_unreachable_at_start_is_one_line_and_exit_1(tmp_path: Path, command: str) -> None:
    result = run_cli_within(
        10, tmp_path, command, DISCORD_TOKEN=TOKEN, DATABASE_PATH="bot.db", DISCORD_API_BASE=UNREACHABLE
    )
    assert_one_line_error(result, "cannot reach Discord at 127.0.0.1:1", "DISCORD_API_BASE", code=1)


def json_response(body: object, status: int = 200) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py reads nothing else as JSON.
    return web.Response(body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"})


class FakeDiscord:
    """Discord on loopback, just enough to log in and open the gateway; served from a thread while the
    CLI runs in a subprocess.

    rest: "ok", or "reject" (401 to everything, as Discord answers a bad token).
    gateway: "drop" (the first connection says hello, waits for IDENTIFY and closes with 1000, which
    discord.py retries; later connections are refused with 503), or "reject" (closes with 4004,
    authentication failed).
    """

    user = {"id": "101", "username": "dramawatch", "discriminator": "0", "avatar": None, "bot": True}
    application = {
        "id": "100",
        "name": "Dramawatch",
        "description": "",
        "icon": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": {"id": "102", "username": "owner", "discriminator": "0", "avatar": None},
        "verify_key": "0" * 64,
        "flags": 0,
        "team": None,
    }

    def __init__(self, *, rest: str = "ok", gateway: str = "drop") -> None:
        self.rest = rest
        self.gateway_mode = gateway
        self.connections = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> FakeDiscord:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self.api)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def api(self, request: web.Request) -> web.Response:
        if self.rest == "reject":
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        if request.path.endswith("/users/@me"):
            return json_response(self.user)
        if request.path.endswith("/oauth2/applications/@me"):
            return json_response(self.application)
        return json_response({"message": "Unknown", "code": 0}, status=404)

    async def gateway(self, request: web.Request) -> web.StreamResponse:
        self.connections += 1
        if self.gateway_mode == "drop" and self.connections > 1:
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None})
        await ws.receive(timeout=10)  # IDENTIFY
        await ws.close(code=4004 if self.gateway_mode == "reject" else 1000)
        return ws


@pytest.mark.parametrize("command", ["run", "sync"])
def test_a_token_rejected_at_log_in_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    with FakeDiscord(rest="reject") as discord:
        result = run_cli_within(
            10,
            tmp_path,
            command,
            DISCORD_TOKEN=TOKEN,
            DATABASE_PATH="bot.db",
            DISCORD_API_BASE=discord.api_base,
        )
    assert_one_line_error(result, "Discord rejected DISCORD_TOKEN")
    assert TOKEN not in result.stderr


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (WARNING|ERROR|INFO) +[\w.]+: ")


def assert_error_after_the_log(result: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> None:
    """The bot got as far as logging (one line a record, e.g. "catalog: 4 drama(s)"), then stopped with
    one error line, and no traceback."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    *logged, last = result.stderr.strip().splitlines()
    assert all(LOG_LINE.match(line) for line in logged), result.stderr
    assert last.startswith("dramawatch: error: "), result.stderr
    for needle in needles:
        assert needle in last


def test_a_token_rejected_by_the_gateway_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with FakeDiscord(gateway="reject") as discord:
        result = run_cli_within(
            15,
            tmp_path,
            "run",
            DISCORD_TOKEN=TOKEN,
            DATABASE_PATH="bot.db",
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
        )
    assert_error_after_the_log(result, "Discord rejected DISCORD_TOKEN")
    assert TOKEN not in result.stderr


def test_a_gateway_unreachable_at_start_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with FakeDiscord() as discord:
        result = run_cli_within(
            15,
            tmp_path,
            "run",
            DISCORD_TOKEN=TOKEN,
            DATABASE_PATH="bot.db",
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL="ws://127.0.0.1:1",
        )
    assert_error_after_the_log(
        result,
        "cannot reach Discord's gateway at ws://127.0.0.1:1 (Connect call failed",
        "check the network and DISCORD_GATEWAY_URL, then start again",
        code=1,
    )


def test_gateway_failures_after_log_in_are_retried_one_line_each(tmp_path: Path) -> None:
    """Connected, then the gateway goes away: discord.py retries with backoff, and each attempt is one
    log line naming the failure, not a traceback; Ctrl+C still stops the bot at once."""
    lines: list[str] = []
    with FakeDiscord(gateway="drop") as discord:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=cli_env(
                DISCORD_TOKEN=TOKEN,
                DATABASE_PATH="bot.db",
                DISCORD_API_BASE=discord.api_base,
                DISCORD_GATEWAY_URL=discord.gateway_url,
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        stderr = process.stderr
        reader = threading.Thread(target=lambda: lines.extend(iter(stderr.readline, "")), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 30
            while sum("Attempting a reconnect" in line for line in lines) < 2 and time.monotonic() < deadline:
                assert process.poll() is None, "".join(lines)
                time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=10)
        reader.join(timeout=5)
    text = "".join(lines)
    retries = [line for line in lines if "Attempting a reconnect" in line]
    assert len(retries) >= 2, text
    for line in (
        retries
    ):  # e.g. "… WARNING discord.client: Attempting a reconnect in 1.06s (after WSServerHandshakeError: 503, …)"
        assert " WARNING discord.client: " in line and "(after WSServerHandshakeError: 503" in line, text
    assert "Traceback" not in text
    assert all(LOG_LINE.match(line) for line in lines), text
    assert code == 0, text
    assert TOKEN not in text
