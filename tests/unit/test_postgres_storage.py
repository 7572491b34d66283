"""What only the PostgreSQL backend has: `?` marks numbered, its migration variants, migrations run
once when several processes start together (the advisory lock), and the password kept out of messages."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from bot.storage.database import load_migrations
from bot.storage.postgres import numbered, redact
from tests.backends import target


def test_question_marks_become_numbered_parameters_outside_quotes() -> None:
    assert numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
    assert numbered("SELECT '?' AS q, \"odd?\" FROM t WHERE x = ?") == "SELECT '?' AS q, \"odd?\" FROM t WHERE x = $1"
    assert numbered("SELECT 'it''s ?' WHERE y = ?") == "SELECT 'it''s ?' WHERE y = $1"


def test_every_postgresql_variant_stands_for_a_migration_of_the_same_number() -> None:
    sqlite, postgres = load_migrations(), load_migrations("postgresql")
    assert [m.number for m in postgres] == [m.number for m in sqlite]
    assert [m.name for m in postgres] == [m.name for m in sqlite]
    variants = {p.name for p in (Path("bot/storage/migrations/postgresql")).glob("*.sql")}
    assert variants and variants < {m.name for m in sqlite}
    for mine, theirs in zip(postgres, sqlite, strict=True):
        assert (mine.sql != theirs.sql) == (mine.name in variants)


def test_the_password_never_shows() -> None:
    assert redact("postgresql://bot:s3cret@db.example:5432/dw") == "postgresql://bot:***@db.example:5432/dw"
    assert redact("postgresql://bot@db.example/dw") == "postgresql://bot@db.example/dw"


def test_database_url_is_read_checked_and_kept_out_of_repr() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql://bot:s3cret@db/dw"}, env_file=None)
    assert settings.database == "postgresql://bot:s3cret@db/dw"
    assert "s3cret" not in repr(settings)
    assert load_settings({}, env_file=None).database == Path("data/dramawatch.db")
    with pytest.raises(SettingsError, match="DATABASE_URL must be a PostgreSQL URL") as caught:
        load_settings({"DATABASE_URL": "mysql://bot:s3cret@db/dw"}, env_file=None)
    assert "s3cret" not in str(caught.value)


@pytest.mark.postgresql
async def test_processes_starting_together_apply_each_migration_once(tmp_path: Path) -> None:
    async with target("postgresql", tmp_path / "unused.db") as where:
        dbs = [await where.open() for _ in range(4)]
        try:
            applied = await asyncio.gather(*(db.migrate() for db in dbs))
            latest = load_migrations("postgresql")[-1].number
            assert sorted(applied, key=len) == [[], [], [], list(range(1, latest + 1))]
            assert [await db.version() for db in dbs] == [latest] * 4
            assert await dbs[0].migrate() == []
        finally:
            for db in dbs:
                await db.close()


def test_comments_and_odd_passwords() -> None:
    assert numbered("SELECT a -- it's ?\nFROM t WHERE b = ? /* ? */ AND c = ?") == (
        "SELECT a -- it's ?\nFROM t WHERE b = $1 /* ? */ AND c = $2"
    )
    assert redact("postgresql://bot:s3cr/et@db:5432/dw") == "postgresql://bot:***@db:5432/dw"
    assert redact("postgresql://bot@db/dw?password=s3cret&sslmode=require") == (
        "postgresql://bot@db/dw?password=***&sslmode=require"
    )


@pytest.mark.postgresql
async def test_a_lost_connection_is_opened_again(tmp_path: Path) -> None:
    import asyncpg

    from tests.backends import PG_URL

    async with target("postgresql", tmp_path / "unused.db") as where:
        db = await where.open()
        try:
            await db.migrate()
            pid = (await db.fetchone("SELECT pg_backend_pid() AS pid"))["pid"]  # type: ignore[index]
            admin = await asyncpg.connect(PG_URL)
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            for _ in range(50):  # until the client has seen the connection go
                await asyncio.sleep(0.02)
                try:
                    await db.fetchone("SELECT 1")
                    break
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    continue
            row = await db.fetchone("SELECT pg_backend_pid() AS pid")
            assert row is not None and row["pid"] != pid
            assert await db.version() == load_migrations("postgresql")[-1].number
        finally:
            await db.close()
