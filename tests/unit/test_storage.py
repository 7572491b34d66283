"""bot.storage: migrations, connection pragmas, transactions, per-server settings, backup (real SQLite)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.storage import Database, MigrationError
from bot.storage.database import load_migrations
from bot.storage.guild_settings import GuildSettings, GuildSettingsRepo, setting_names

GUILD = 111111111111111111
OTHER_GUILD = 222222222222222222


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# -- migrations --------------------------------------------------------------------------------------
def test_migrations_are_numbered_from_one_without_gaps() -> None:
    migrations = load_migrations()
    assert [m.number for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].name == "0001_core.sql"


async def test_migrate_creates_tables_and_sets_user_version(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        assert await db.version() == 0
        applied = await db.migrate()
        latest = load_migrations()[-1].number
        assert applied == list(range(1, latest + 1))
        assert await db.version() == latest
    finally:
        await db.close()
    assert {"guild_settings", "jobs"} <= tables(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == latest


async def test_migrate_twice_applies_nothing_the_second_time(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        assert await db.migrate() != []
        version = await db.version()
        assert await db.migrate() == []
        assert await db.version() == version
    finally:
        await db.close()
    # A fresh connection (a restart) finds nothing to do either.
    db = await Database.open(db_path)
    try:
        assert await db.migrate() == []
    finally:
        await db.close()


async def test_migrate_refuses_a_database_newer_than_the_code(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 999")
    db = await Database.open(db_path)
    try:
        with pytest.raises(MigrationError, match="version 999"):
            await db.migrate()
    finally:
        await db.close()


async def test_failed_migration_is_rolled_back_and_reported(db_path: Path) -> None:
    # A table the first migration wants to create already exists: the migration fails as a whole.
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE jobs (x INTEGER)")
    db = await Database.open(db_path)
    try:
        with pytest.raises(MigrationError, match="0001_core.sql"):
            await db.migrate()
        assert await db.version() == 0
        assert "guild_settings" not in {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        # The connection is usable afterwards (no transaction left open).
        await db.execute("CREATE TABLE after_failure (x INTEGER)")
    finally:
        await db.close()


async def test_wal_and_foreign_keys_are_on(db: Database) -> None:
    journal = await db.fetchone("PRAGMA journal_mode")
    foreign_keys = await db.fetchone("PRAGMA foreign_keys")
    assert journal is not None and journal[0].lower() == "wal"
    assert foreign_keys is not None and foreign_keys[0] == 1


async def test_foreign_keys_are_enforced(db: Database) -> None:
    await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await db.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id))")
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO child (parent_id) VALUES (?)", (42,))


# -- statements and transactions --------------------------------------------------------------------
async def test_execute_returns_rowid_for_insert_and_rowcount_otherwise(db: Database) -> None:
    await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    first = await db.execute("INSERT INTO t (v) VALUES (?)", ("a",))
    second = await db.execute("INSERT INTO t (v) VALUES (?)", ("b",))
    assert (first, second) == (1, 2)
    await db.executemany("INSERT INTO t (v) VALUES (?)", [("c",), ("d",)])
    assert await db.execute("UPDATE t SET v = 'z' WHERE id > ?", (1,)) == 3
    rows = await db.fetchall("SELECT v FROM t ORDER BY id")
    assert [r["v"] for r in rows] == ["a", "z", "z", "z"]


async def test_transaction_commits(db: Database) -> None:
    await db.execute("CREATE TABLE t (v TEXT)")
    async with db.transaction():
        await db.execute("INSERT INTO t (v) VALUES ('kept')")
        await db.execute("INSERT INTO t (v) VALUES ('kept too')")
    assert [r["v"] for r in await db.fetchall("SELECT v FROM t")] == ["kept", "kept too"]


async def test_transaction_rolls_back_on_exception(db: Database) -> None:
    await db.execute("CREATE TABLE t (v TEXT)")
    await db.execute("INSERT INTO t (v) VALUES ('before')")
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction():
            await db.execute("INSERT INTO t (v) VALUES ('lost')")
            await db.execute("UPDATE t SET v = 'changed' WHERE v = 'before'")
            raise RuntimeError("boom")
    assert [r["v"] for r in await db.fetchall("SELECT v FROM t")] == ["before"]
    # The connection is out of the transaction and usable.
    async with db.transaction():
        await db.execute("INSERT INTO t (v) VALUES ('after')")
    assert [r["v"] for r in await db.fetchall("SELECT v FROM t ORDER BY rowid")] == ["before", "after"]


async def test_nested_transaction_joins_the_outer_one(db: Database) -> None:
    await db.execute("CREATE TABLE t (v TEXT)")
    with pytest.raises(ValueError):
        async with db.transaction():
            await db.execute("INSERT INTO t (v) VALUES ('outer')")
            async with db.transaction():
                await db.execute("INSERT INTO t (v) VALUES ('inner')")
            raise ValueError("outer fails after inner finished")
    assert await db.fetchall("SELECT v FROM t") == []


async def test_transaction_is_not_interleaved_with_other_tasks(db: Database) -> None:
    await db.execute("CREATE TABLE t (v TEXT)")
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute("INSERT INTO t (v) VALUES ('in tx')")
                inside.set()
                await release.wait()
                raise RuntimeError("roll back")

    task = asyncio.create_task(writer())
    await asyncio.wait_for(inside.wait(), 5)
    other = asyncio.create_task(db.execute("INSERT INTO t (v) VALUES ('other task')"))
    await asyncio.sleep(0)  # the other task submits its statement now: it must wait, not join the transaction
    release.set()
    await asyncio.wait_for(task, 5)
    await asyncio.wait_for(other, 5)
    assert [r["v"] for r in await db.fetchall("SELECT v FROM t")] == ["other task"]


# -- per-server settings ----------------------------------------------------------------------------
async def test_server_without_rows_reads_the_declared_defaults(db: Database) -> None:
    repo = GuildSettingsRepo(db)
    settings = await repo.get(GUILD)
    assert settings == GuildSettings(guild_id=GUILD)
    assert settings.timezone == "UTC"
    assert settings.mod_role_id is None
    assert all(settings.channel_id(kind) is None for kind in ("recaps", "discussions", "announcements", "mods"))
    assert await db.fetchall("SELECT * FROM guild_settings") == []


async def test_update_persists_per_server(db: Database) -> None:
    repo = GuildSettingsRepo(db)
    updated = await repo.update(GUILD, timezone="Asia/Seoul", mod_role_id=42, recaps_channel_id=7)
    assert (updated.timezone, updated.mod_role_id, updated.recaps_channel_id) == ("Asia/Seoul", 42, 7)
    assert updated.channel_id("recaps") == 7

    # Read back through a fresh repository (no cache), as after a restart.
    fresh = GuildSettingsRepo(db)
    again = await fresh.get(GUILD)
    assert again == updated
    assert await fresh.get(OTHER_GUILD) == GuildSettings(guild_id=OTHER_GUILD)


async def test_update_invalidates_the_cache(db: Database) -> None:
    repo = GuildSettingsRepo(db)
    assert (await repo.get(GUILD)).timezone == "UTC"
    await repo.update(GUILD, timezone="Europe/Paris")
    assert (await repo.get(GUILD)).timezone == "Europe/Paris"


async def test_settings_survive_reopening_the_database(db_path: Path) -> None:
    db = await Database.open(db_path)
    await db.migrate()
    try:
        await GuildSettingsRepo(db).update(GUILD, announcements_channel_id=555)
    finally:
        await db.close()
    db = await Database.open(db_path)
    try:
        assert (await GuildSettingsRepo(db).get(GUILD)).announcements_channel_id == 555
    finally:
        await db.close()


@pytest.mark.parametrize("reset", [None, "UTC"])
async def test_setting_back_to_default_deletes_the_override(db: Database, reset: str | None) -> None:
    repo = GuildSettingsRepo(db)
    await repo.update(GUILD, timezone="Asia/Seoul", mod_role_id=99)
    await repo.update(OTHER_GUILD, timezone="America/New_York")
    assert len(await db.fetchall("SELECT * FROM guild_settings WHERE guild_id = ?", (GUILD,))) == 2

    settings = await repo.update(GUILD, timezone=reset)
    assert settings.timezone == "UTC"
    assert settings.mod_role_id == 99
    rows = await db.fetchall("SELECT key FROM guild_settings WHERE guild_id = ?", (GUILD,))
    assert [r["key"] for r in rows] == ["mod_role_id"]

    await repo.update(GUILD, mod_role_id=None)
    assert await db.fetchall("SELECT * FROM guild_settings WHERE guild_id = ?", (GUILD,)) == []
    assert await repo.get(GUILD) == GuildSettings(guild_id=GUILD)
    # The other server keeps its value.
    assert (await GuildSettingsRepo(db).get(OTHER_GUILD)).timezone == "America/New_York"


async def test_unknown_setting_key_raises_key_error_and_writes_nothing(db: Database) -> None:
    repo = GuildSettingsRepo(db)
    with pytest.raises(KeyError, match="colour"):
        await repo.update(GUILD, timezone="Asia/Seoul", colour="red")
    with pytest.raises(KeyError, match="nickname"):
        await repo.update(OTHER_GUILD, nickname="x")
    assert await db.fetchall("SELECT * FROM guild_settings") == []
    with pytest.raises(KeyError):
        (await repo.get(GUILD)).channel_id("nonsense")


def test_setting_names_are_the_declared_fields() -> None:
    assert setting_names() == [
        "timezone",
        "mod_role_id",
        "host_role_id",
        "recaps_channel_id",
        "discussions_channel_id",
        "announcements_channel_id",
        "mods_channel_id",
        "thread_archive_minutes",
        "members_open_threads",
        "reminders",
        "feed_interval_minutes",
    ]


async def test_rows_for_settings_no_longer_declared_are_ignored(db: Database) -> None:
    await db.execute(
        "INSERT INTO guild_settings (guild_id, key, value, updated_at) VALUES (?, 'retired_setting', '1', 0)",
        (GUILD,),
    )
    assert await GuildSettingsRepo(db).get(GUILD) == GuildSettings(guild_id=GUILD)


# -- backup -----------------------------------------------------------------------------------------
async def test_backup_produces_a_readable_copy(db: Database, tmp_path: Path) -> None:
    await GuildSettingsRepo(db).update(GUILD, timezone="Asia/Seoul")
    copy_path = tmp_path / "copy.db"
    await db.backup(copy_path)

    with sqlite3.connect(copy_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == await db.version()
        rows = conn.execute("SELECT guild_id, key, value FROM guild_settings").fetchall()
    assert rows == [(GUILD, "timezone", '"Asia/Seoul"')]

    copy = await Database.open(copy_path)
    try:
        assert await copy.migrate() == []
        assert (await GuildSettingsRepo(copy).get(GUILD)).timezone == "Asia/Seoul"
    finally:
        await copy.close()
    # The original keeps working after the backup.
    await GuildSettingsRepo(db).update(GUILD, mod_role_id=1)


# -- feeds at start -----------------------------------------------------------------------------------
async def test_poll_times_name_every_active_feed_and_when_it_polls_next(db: Database) -> None:
    from datetime import UTC, datetime

    from bot.storage.feeds import FeedsRepo

    repo = FeedsRepo(db)
    never = await repo.add(GUILD, "https://example.org/a.xml", None, None, 1)
    polled = await repo.add(GUILD, "https://example.org/b.xml", None, None, 1)
    gone = await repo.add(GUILD, "https://example.org/c.xml", None, None, 1)
    due = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    now = datetime(2026, 12, 1, 19, 45, tzinfo=UTC)
    await repo.succeeded(polled.id, title=None, etag=None, last_modified=None, now=now, next_poll=due)
    await repo.disable(gone.id, "410 Gone")
    assert await repo.poll_times() == [(never.id, None), (polled.id, due)]  # a disabled feed does not poll
