"""Moving a SQLite database into PostgreSQL: `python -m bot migrate --to postgresql://…`.

Both ends are brought to the latest migration first, so their tables and columns match; the copy
reads one consistent snapshot of the SQLite file and writes in one PostgreSQL transaction, refuses a
target that already holds rows, keeps every id (and moves each identity sequence past the largest),
and counts every table on both sides before it commits: a difference is an error that leaves the
target as it was, never a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from graphlib import TopologicalSorter

from bot.storage.database import SqliteDatabase, StorageError
from bot.storage.postgres import PostgresDatabase

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
PAGE = 5000  # rows read and written at a time


@dataclass(frozen=True)
class Counted:
    table: str
    source: int
    target: int


def _name(raw: object) -> str:
    text = str(raw)
    if not _NAME.match(text):  # our own schema's names only: anything else is not ours to copy
        raise StorageError(f"the SQLite database has a table or column named {text!r}, which Dramawatch never makes")
    return text


async def _tables(source: SqliteDatabase) -> list[str]:
    """The source's tables, each after the tables its foreign keys point at."""
    rows = await source.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name"
    )
    names = [_name(r["name"]) for r in rows]
    order: TopologicalSorter[str] = TopologicalSorter()
    for table in names:
        parents = await source.fetchall(f'SELECT "table" AS parent FROM pragma_foreign_key_list("{table}")')  # noqa: S608 - a checked name
        order.add(table, *(_name(p["parent"]) for p in parents))
    return list(order.static_order())


async def _columns(source: SqliteDatabase, table: str) -> list[str]:
    rows = await source.fetchall(f'SELECT name FROM pragma_table_info("{table}") ORDER BY cid')  # noqa: S608 - a checked name
    return [_name(r["name"]) for r in rows]


async def count(db: SqliteDatabase | PostgresDatabase, table: str) -> int:
    row = await db.fetchone(f'SELECT COUNT(*) AS n FROM "{_name(table)}"')  # noqa: S608 - a checked name
    return int(row["n"]) if row else 0


async def copy_database(
    source: SqliteDatabase, target: PostgresDatabase, progress: Callable[[str, int], None] | None = None
) -> list[Counted]:
    """Copy every row of `source` into the empty `target`; returns each table's counts (equal)."""
    await source.migrate()
    await target.migrate()
    tables = await _tables(source)
    target_columns = await target.columns()
    missing = [t for t in tables if t not in target_columns]
    if missing:
        raise StorageError(f"the PostgreSQL database has no table {', '.join(missing)}; is it Dramawatch's?")
    held = {t: n for t in tables if (n := await count(target, t))}
    if held:
        listed = ", ".join(f"{t} ({n:,})" for t, n in sorted(held.items()))
        raise StorageError(
            f"the PostgreSQL database {target.path} already holds rows: {listed}; copy into an empty database"
        )
    # One read transaction on SQLite (a consistent snapshot; writers wait) and one write transaction
    # on PostgreSQL, whose counts are checked before it commits: a difference leaves the target empty.
    async with source.transaction(), target.transaction():
        await target.triggers(tables, enabled=False)  # rsvp_versions is copied as it is, not recounted
        for table in tables:
            columns = await _columns(source, table)
            extra = [c for c in columns if c not in target_columns[table]]
            if extra:
                raise StorageError(f"the PostgreSQL table {table} has no column {', '.join(extra)}")
            copied = 0
            async for rows in source.stream(f'SELECT {", ".join(columns)} FROM "{table}"', PAGE):  # noqa: S608 - checked names
                await target.copy_rows(table, columns, rows)
                copied += len(rows)
                if progress is not None:
                    progress(table, copied)
            if "id" in columns:
                await target.move_identity(table)
        await target.triggers(tables, enabled=True)
        counted = [Counted(t, await count(source, t), await count(target, t)) for t in tables]
        wrong = [c for c in counted if c.source != c.target]
        if wrong:
            listed = ", ".join(f"{c.table} {c.source:,} → {c.target:,}" for c in wrong)
            raise StorageError(f"the copy's row counts differ: {listed}; nothing was kept")
    return counted
