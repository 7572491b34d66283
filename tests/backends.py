"""The two database backends the repository tests run on: SQLite (a file in a temporary folder) and
PostgreSQL (a fresh schema per test in the server at DRAMAWATCH_TEST_DATABASE_URL).

Where no PostgreSQL answers, its half is skipped with one line saying how to run it; with
DRAMAWATCH_REQUIRE_POSTGRES=1 (as `.ci/run` sets) that is a failure instead, so CI cannot skip it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from bot.storage import Database
from bot.storage.postgres import PostgresDatabase

PG_URL = os.environ.get("DRAMAWATCH_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("DRAMAWATCH_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]
# What a broken constraint raises on each backend.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)

_reachable: str | None = None  # "" when reachable, else why not (checked once per test run)


async def _check() -> str:
    global _reachable
    if _reachable is None:
        try:
            conn = await asyncpg.connect(PG_URL, timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _reachable = str(exc) or type(exc).__name__
        else:
            await conn.close()
            _reachable = ""
    return _reachable


def unreachable_message(why: str) -> str:
    return (
        f"PostgreSQL tests need a server at {PG_URL} ({why}); start one or point "
        "DRAMAWATCH_TEST_DATABASE_URL at one to run them"
    )


def check_now() -> str:
    """Why PostgreSQL cannot be used ("" when it can), from outside an event loop (collection)."""
    return asyncio.run(_check())


async def require_postgres() -> None:
    """Skip (or, where required, fail) the calling test when no PostgreSQL answers."""
    why = await _check()
    if not why:
        return
    message = unreachable_message(why)
    if REQUIRED:
        pytest.fail(message + " (DRAMAWATCH_REQUIRE_POSTGRES=1: they may not be skipped here)")
    pytest.skip(message)


@dataclass
class Target:
    """Where a test's database lives: open it as many times as the test needs."""

    backend: str
    path: Path
    schema: str = ""
    opened: list[Database] = field(default_factory=list)

    @property
    def url(self) -> str:
        """DATABASE_URL for a bot process: the server, with this test's schema as its search path."""
        if self.backend == "sqlite":
            return str(self.path)
        joiner = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{joiner}search_path={self.schema}"

    async def open(self) -> Database:
        if self.backend == "sqlite":
            db = await Database.open(self.path)
        else:
            db = await PostgresDatabase.connect(PG_URL, server_settings={"search_path": self.schema})
        self.opened.append(db)
        return db


@asynccontextmanager
async def target(backend: str, path: Path) -> AsyncIterator[Target]:
    if backend == "sqlite":
        yield Target(backend, path)
        return
    await require_postgres()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(PG_URL, timeout=10)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield Target(backend, path, schema)
        finally:
            await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await admin.close()
