"""Shared fixtures for the unit tests: a migrated database, on each backend (SQLite and PostgreSQL;
see tests/backends.py for when the PostgreSQL half runs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database
from tests.backends import BACKENDS, Target, target


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dramawatch.db"


@pytest.fixture(params=BACKENDS)
async def db_target(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Target]:
    async with target(request.param, db_path) as where:
        yield where


@pytest.fixture
async def db(db_target: Target) -> AsyncIterator[Database]:
    database = await db_target.open()
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_db(db_path: Path) -> AsyncIterator[Database]:
    """For what only SQLite has (its file, PRAGMAs, the backup API)."""
    database = await Database.open(db_path)
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()
