"""The database: SQLite (the embedded default) or PostgreSQL, behind one small interface.

:class:`Database` is what every repository uses: `execute`, `insert`, `executemany`, `fetchone`,
`fetchall` with `?` parameters, and `transaction()`. `Database.open(target)` picks the backend: a
`postgresql://` URL opens :class:`bot.storage.postgres.PostgresDatabase` (asyncpg), anything else is
a SQLite file (:class:`SqliteDatabase`: one aiosqlite connection with WAL and foreign keys).

Migrations are the files `migrations/NNNN_name.sql`, applied in number order, each in its own
transaction together with the schema version, so running them twice changes nothing. Where
PostgreSQL's SQL must differ, `migrations/postgresql/NNNN_name.sql` (same number and name) is its
variant. A landed migration is never edited: add the next number instead.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# The (database, task) pairs holding a transaction. The task is part of it because a task created
# inside a transaction inherits this context but must not skip the lock once the transaction has
# ended; several databases may each hold one (a copy from SQLite into PostgreSQL).
_holder: contextvars.ContextVar[tuple[tuple[Database, asyncio.Task[Any] | None], ...]] = contextvars.ContextVar(
    "dramawatch_tx", default=()
)


class StorageError(Exception):
    """The database cannot be used. The message names the file and says what to do; the CLI prints
    it as one line."""


class MigrationError(StorageError):
    pass


class UnreadableDatabase(StorageError):
    """The file cannot be opened or read as a SQLite database (damaged, not a database, no access)."""


def _unreadable(path: str | Path, error: sqlite3.Error) -> UnreadableDatabase:
    reason = str(error) or type(error).__name__
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
        # "file is not a database", "database disk image is malformed"
        return UnreadableDatabase(
            f"the database {path} is damaged or is not a SQLite database ({reason}); restore a backup "
            "(made with `python -m bot backup`), or move the file away to start with an empty database"
        )
    return UnreadableDatabase(f"cannot use the database {path} ({reason}); check the path and its permissions")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def load_migrations(dialect: str = "sqlite") -> list[Migration]:
    """The numbered migrations; for "postgresql", each one's variant from `migrations/postgresql/`
    where there is one (a variant must have the name of the migration it stands for)."""
    folder = resources.files("bot.storage") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations must be numbered 0001, 0002, … without gaps; found {numbers}")
    if dialect == "sqlite":
        return found
    names = {m.name: m for m in found}
    variants = folder / dialect
    for entry in variants.iterdir() if variants.is_dir() else ():
        if not _MIGRATION_NAME.match(entry.name):
            continue
        if entry.name not in names:
            raise MigrationError(f"the {dialect} migration {entry.name} has no migration of that name to stand for")
        names[entry.name] = Migration(names[entry.name].number, entry.name, entry.read_text(encoding="utf-8"))
    return sorted(names.values(), key=lambda m: m.number)


def _probe(path: str | Path) -> None:
    """Open the file and read its schema (blocking): UnreadableDatabase if it is not usable."""
    try:
        conn = sqlite3.connect(str(path), timeout=5)
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    finally:
        conn.close()


class _Now(Protocol):
    def now(self) -> datetime: ...


class _Wall:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Row(Protocol):
    """A result row: read by column name or position (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: int | str, /) -> Any: ...


class Database(abc.ABC):
    """Serialises every statement through one connection; `transaction()` groups statements.

    Repositories stamp rows with :meth:`now_ms`, which reads the bot's injected clock (the sandbox's
    manual clock in tests), never the wall clock directly. SQL is written once, with `?` marks, in the
    subset both backends speak; `dialect` ("sqlite" or "postgresql") is read only where it cannot be.
    """

    dialect: ClassVar[str]

    def __init__(self, where: str, clock: _Now | None = None) -> None:
        self.path = where  # a file's path, or a server's URL without its password: for messages
        self._lock = asyncio.Lock()
        self._clock: _Now = clock or _Wall()

    def now_ms(self) -> int:
        """The injected clock's time in milliseconds since the epoch: the stamp every repository writes."""
        return int(self._clock.now().timestamp() * 1000)

    @staticmethod
    async def open(target: str | Path, *, clock: _Now | None = None) -> Database:
        """Open a SQLite file (created when absent), or a PostgreSQL server given a `postgresql://` URL."""
        if is_postgres_url(str(target)):
            from bot.storage.postgres import PostgresDatabase

            return await PostgresDatabase.connect(str(target), clock=clock)
        return await SqliteDatabase.connect(target, clock=clock)

    @abc.abstractmethod
    async def close(self) -> None: ...

    # -- access -------------------------------------------------------------------------------
    def _in_transaction(self) -> bool:
        return (self, asyncio.current_task()) in _holder.get()

    @asynccontextmanager
    async def _access(self) -> AsyncIterator[None]:
        if self._in_transaction():  # already inside this task's transaction
            yield
            return
        async with self._lock:
            yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN … COMMIT, or ROLLBACK on error. Nested use joins the outer transaction."""
        if self._in_transaction():
            yield
            return
        async with self._lock:
            token = _holder.set((*_holder.get(), (self, asyncio.current_task())))
            try:
                await self._begin()
                try:
                    yield
                except BaseException:
                    await self._rollback()
                    raise
                else:
                    await self._commit()
            finally:
                _holder.reset(token)

    @abc.abstractmethod
    async def _begin(self) -> None: ...

    @abc.abstractmethod
    async def _commit(self) -> None: ...

    @abc.abstractmethod
    async def _rollback(self) -> None: ...

    @abc.abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""

    @abc.abstractmethod
    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT of one row into a table with an `id` key; returns the new row's id."""

    @abc.abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @abc.abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    # -- schema -------------------------------------------------------------------------------
    @abc.abstractmethod
    async def version(self) -> int:
        """The number of the last migration applied (0: none)."""

    @abc.abstractmethod
    async def migrate(self) -> list[int]:
        """Apply every migration above the database's version; returns the numbers applied."""

    @abc.abstractmethod
    async def backup(self, destination: str | Path) -> None: ...

    def _too_new(self, current: int, latest: int) -> MigrationError:
        return MigrationError(
            f"the database {self.path} is at version {current}, newer than this bot knows ({latest}); "
            "upgrade Dramawatch or restore a backup"
        )


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


class SqliteDatabase(Database):
    """One aiosqlite connection (WAL, foreign keys on); statements serialised by the lock."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: str, clock: _Now | None = None) -> None:
        super().__init__(path, clock)
        self._conn = conn

    @classmethod
    async def connect(cls, path: str | Path, *, clock: _Now | None = None) -> SqliteDatabase:
        """Open (or create) the database and read its schema, so a file that is not a usable SQLite
        database fails here with :class:`UnreadableDatabase`. Nothing is left running on failure: a
        connection left open would keep its thread, and the process, alive."""
        # Probe with plain sqlite3 first: when aiosqlite fails to connect, its worker thread finishes
        # on its own time and may report into an event loop that is already closed.
        await asyncio.to_thread(_probe, path)
        try:
            conn = await aiosqlite.connect(str(path), isolation_level=None)
        except sqlite3.Error as exc:
            raise _unreadable(path, exc) from None
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA busy_timeout = 5000")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute_fetchall("SELECT COUNT(*) FROM sqlite_master")
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _unreadable(path, exc) from None
            raise
        return cls(conn, str(path), clock)

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    async def _begin(self) -> None:
        await self._conn.execute("BEGIN IMMEDIATE")

    async def _commit(self) -> None:
        await self._conn.execute("COMMIT")

    async def _rollback(self) -> None:
        await self._conn.execute("ROLLBACK")

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._access():
            # One trip to aiosqlite's thread: rowcount is read without another, and an unclosed
            # sqlite3 cursor is simply collected.
            cursor = await self._conn.execute(sql, params)
            return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._access():
            # lastrowid is the connection's last inserted row: right only because the statement did
            # insert one (an INSERT that inserted nothing would leave an older row's id there).
            cursor = await self._conn.execute(sql, params)
            if cursor.rowcount != 1 or not cursor.lastrowid:
                raise StorageError(f"the insert changed {cursor.rowcount} rows, not 1: {sql[:60]}")
            return cursor.lastrowid

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._access():
            await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._access():
            # One trip to aiosqlite's thread (execute + fetch + close), not three.
            return list(await self._conn.execute_fetchall(sql, params))

    async def stream(self, sql: str, size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The statement's rows as tuples, `size` at a time (to copy a table without holding it all)."""
        async with self._access():
            cursor = await self._conn.execute(sql)
            try:
                while rows := await cursor.fetchmany(size):
                    yield [tuple(r) for r in rows]
            finally:
                await cursor.close()

    # -- schema -------------------------------------------------------------------------------
    async def version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self) -> list[int]:
        migrations = load_migrations()
        applied: list[int] = []
        try:
            current = await self.version()
        except sqlite3.DatabaseError as exc:
            raise _unreadable(self.path, exc) from None
        latest = migrations[-1].number if migrations else 0
        if current > latest:
            raise self._too_new(current, latest)
        for migration in migrations:
            if migration.number <= current:
                continue
            script = f"BEGIN IMMEDIATE;\n{migration.sql}\n;PRAGMA user_version = {migration.number};\nCOMMIT;"
            async with self._lock:
                try:
                    await self._conn.executescript(script)
                except sqlite3.Error as exc:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    # Another process may have applied it first: that is fine.
                    async with self._conn.execute("PRAGMA user_version") as cursor:
                        row = await cursor.fetchone()
                    if row and row[0] >= migration.number:
                        current = row[0]
                        continue
                    raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
            log.info("applied migration %s", migration.name)
            applied.append(migration.number)
            current = migration.number
        return applied

    async def backup(self, destination: str | Path) -> None:
        """An online copy (SQLite backup API): safe while the bot runs."""
        async with self._lock:
            target = await aiosqlite.connect(str(destination))
            try:
                await self._conn.backup(target)
            finally:
                await target.close()
