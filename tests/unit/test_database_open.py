"""bot.storage.database: a file that is not a usable database is refused at open, leaving nothing running."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.storage.database import Database, MigrationError, StorageError, UnreadableDatabase


def connection_threads() -> set[threading.Thread]:
    """aiosqlite's connection threads (not daemons: one left running keeps the process alive)."""
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def test_random_bytes_are_refused_at_open_and_no_thread_is_left(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(random.Random(7).randbytes(8192))
    before = connection_threads()
    with pytest.raises(UnreadableDatabase) as refused:
        await Database.open(path)
    assert str(refused.value).startswith(f"the database {path} is damaged or is not a SQLite database (")
    assert "restore a backup" in str(refused.value)
    for thread in connection_threads() - before:  # a connection thread left running would keep the process alive
        thread.join(timeout=2)
        assert not thread.is_alive()


async def test_a_damaged_schema_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = bytes(3996)  # the schema page, zeroed; the header still says SQLite
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableDatabase, match="is damaged or is not a SQLite database"):
        db = await Database.open(path)
        try:
            await db.migrate()
        finally:
            await db.close()


async def test_a_path_that_cannot_be_opened_says_so(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDatabase, match="cannot use the database .* check the path and its permissions"):
        await Database.open(tmp_path / "missing-dir" / "bot.db")


def test_every_storage_failure_shares_one_base() -> None:
    assert issubclass(MigrationError, StorageError) and issubclass(UnreadableDatabase, StorageError)
