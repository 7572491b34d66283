"""PostgreSQL behind the same interface as SQLite (asyncpg), selected by `DATABASE_URL=postgresql://…`.

One connection per process, statements serialised by the lock exactly as with SQLite, so every
repository keeps its single-process meaning: a transaction here is a transaction there. Statements
are written with `?` marks; they become `$1, $2, …` once per distinct statement.

Migrations run under a session advisory lock, so several processes starting together apply each
one once: the others wait, then find the version already there. The schema version lives in the
one-row table `schema_version` (SQLite keeps it in `PRAGMA user_version`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from bot.storage.database import Database, MigrationError, Row, StorageError, _Now, load_migrations

log = logging.getLogger(__name__)

# pg_advisory_lock key held while migrating: "Drmw" as an integer; any constant all processes share.
MIGRATION_LOCK = 0x44726D77


def redact(url: str) -> str:
    """The URL with any password replaced by ***: what messages and logs show. Everything between
    the scheme and the last "@" is user information (a password may hold an unencoded "/" or "#"),
    and a `password=` query parameter is hidden too."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    if "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        rest = f"{user}:***@{host}" if colon else f"{user}@{host}"
    rest = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", rest)
    return f"{scheme}://{rest}"


@functools.lru_cache(maxsize=4096)
def numbered(sql: str) -> str:
    """`?` marks as `$1, $2, …`; a `?` inside a quoted string or identifier, or a comment, is left alone."""
    out: list[str] = []
    quote = ""  # the closing text of what we are inside: ', ", a newline (-- comment) or */
    n = 0
    i = 0
    while i < len(sql):
        char = sql[i]
        if quote:
            if sql.startswith(quote, i):
                out.append(quote)
                i += len(quote)
                quote = ""
                continue
        elif char in "'\"":
            quote = char
        elif sql.startswith("--", i):
            quote = "\n"
        elif sql.startswith("/*", i):
            quote = "*/"
            out.append("/*")
            i += 2
            continue
        elif char == "?":
            n += 1
            out.append(f"${n}")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _changed(status: str) -> int:
    """Rows changed, from a command status such as "UPDATE 3", "INSERT 0 1" or "DELETE 0"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _unusable(url: str, exc: BaseException) -> StorageError:
    reason = str(exc) or type(exc).__name__
    return StorageError(
        f"cannot use the PostgreSQL database {redact(url)} ({reason}); check DATABASE_URL, that the server "
        "runs and accepts this user, and that the database exists"
    )


async def _open(url: str, server_settings: Mapping[str, str] | None) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=10, server_settings=dict(server_settings or {}))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        raise _unusable(url, exc) from None


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(
        self,
        conn: asyncpg.Connection,
        url: str,
        clock: _Now | None = None,
        server_settings: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(redact(url), clock)
        self._conn = conn
        self._url = url
        self._server_settings = dict(server_settings or {})
        self._tx: asyncpg.transaction.Transaction | None = None
        self._closed = False

    @classmethod
    async def connect(
        cls, url: str, *, clock: _Now | None = None, server_settings: Mapping[str, str] | None = None
    ) -> PostgresDatabase:
        """Connect (10 s at most) or fail with one StorageError line that names the server."""
        return cls(await _open(url, server_settings), url, clock, server_settings)

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            await self._conn.close()

    async def _connection(self) -> asyncpg.Connection:
        """The connection, opened again if it was lost (a server restart, a failover, an idle kill):
        the statement then runs on the new one. Inside a transaction a lost connection is an error
        (the transaction is gone with it)."""
        if self._conn.is_closed() and not self._closed and not self._in_transaction():
            log.warning("the connection to %s was lost; connecting again", self.path)
            self._conn = await _open(self._url, self._server_settings)
        return self._conn

    async def _begin(self) -> None:
        conn = await self._connection()
        self._tx = conn.transaction()
        await self._tx.start()

    async def _commit(self) -> None:
        assert self._tx is not None
        tx, self._tx = self._tx, None
        await tx.commit()

    async def _rollback(self) -> None:
        assert self._tx is not None
        tx, self._tx = self._tx, None
        await tx.rollback()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._access():
            return _changed(await (await self._connection()).execute(numbered(sql), *params))

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._access():
            new_id = await (await self._connection()).fetchval(numbered(sql) + " RETURNING id", *params)
        if new_id is None:
            raise StorageError(f"the insert added no row: {sql[:60]}")
        return int(new_id)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        if not batch:
            return
        async with self._access():
            await (await self._connection()).executemany(numbered(sql), batch)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._access():
            return list(await (await self._connection()).fetch(numbered(sql), *params))

    # -- copying in (bot.storage.transfer) ------------------------------------------------------
    async def columns(self) -> dict[str, set[str]]:
        """Every table of the current schema, with its columns."""
        rows = await self.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        )
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row["table_name"], set()).add(row["column_name"])
        return found

    async def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """COPY rows into a table (names checked by the caller): the fast bulk path."""
        async with self._access():
            await self._conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def triggers(self, tables: Iterable[str], *, enabled: bool) -> None:
        for table in tables:
            await self.execute(f'ALTER TABLE "{table}" {"ENABLE" if enabled else "DISABLE"} TRIGGER USER')

    async def move_identity(self, table: str) -> None:
        """Move the table's id sequence (if it has one) past its largest id, after rows came with ids."""
        await self.execute(
            f"SELECT setval(pg_get_serial_sequence(?, 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, "  # noqa: S608
            "false)",
            (table,),
        )

    # -- schema -------------------------------------------------------------------------------
    async def version(self) -> int:
        async with self._access():
            return await self._version()

    async def _version(self) -> int:
        exists = await self._conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
        if not exists:
            return 0
        value = await self._conn.fetchval("SELECT MAX(version) FROM schema_version")
        return int(value or 0)

    async def migrate(self) -> list[int]:
        migrations = load_migrations(self.dialect)
        latest = migrations[-1].number if migrations else 0
        applied: list[int] = []
        async with self._lock:
            # Session-level: held across the migrations' own transactions, released below (or when
            # the connection ends, should this process die half-way).
            await self._conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                current = await self._version()
                if current > latest:
                    raise self._too_new(current, latest)
                if current == 0:
                    await self._conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                for migration in migrations:
                    if migration.number <= current:
                        continue
                    try:
                        async with self._conn.transaction():
                            await self._conn.execute(migration.sql)
                            await self._conn.execute("DELETE FROM schema_version")
                            await self._conn.execute(
                                "INSERT INTO schema_version (version) VALUES ($1)", migration.number
                            )
                    except asyncpg.PostgresError as exc:
                        raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
                    log.info("applied migration %s", migration.name)
                    applied.append(migration.number)
                    current = migration.number
            finally:
                with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await self._conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return applied

    async def backup(self, destination: str | Path) -> None:
        raise StorageError(
            f"back up the PostgreSQL database {self.path} with pg_dump (python -m bot backup copies SQLite files)"
        )
