"""Each bot process sharing the database: its shards and its heartbeat (`python -m bot status`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.storage.database import Database, Row
from bot.storage.jobs import from_ms, to_ms


@dataclass(frozen=True, kw_only=True)
class ProcessRow:
    name: str
    host: str
    pid: int
    shard_ids: tuple[int, ...]  # the shards it runs now (empty: not sharded, or none yet)
    configured: tuple[int, ...]  # the shards it was started for (SHARD_IDS)
    shard_count: int
    started_at: datetime
    heartbeat_at: datetime
    latency_ms: int | None
    running: int
    stopped_at: datetime | None


def _shards(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in text.split(",") if s)


def _text(shards: tuple[int, ...]) -> str:
    return ",".join(map(str, shards))


def _process(row: Row) -> ProcessRow:
    return ProcessRow(
        name=row["name"],
        host=row["host"],
        pid=row["pid"],
        shard_ids=_shards(row["shard_ids"]),
        configured=_shards(row["configured"]),
        shard_count=row["shard_count"],
        started_at=from_ms(row["started_at"]),
        heartbeat_at=from_ms(row["heartbeat_at"]),
        latency_ms=row["latency_ms"],
        running=row["running"],
        stopped_at=from_ms(row["stopped_at"]) if row["stopped_at"] is not None else None,
    )


class ProcessesRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> ProcessRow | None:
        row = await self._db.fetchone("SELECT * FROM processes WHERE name = ?", (name,))
        return _process(row) if row else None

    async def all(self) -> list[ProcessRow]:
        return [_process(r) for r in await self._db.fetchall("SELECT * FROM processes ORDER BY name")]

    async def register(
        self,
        name: str,
        host: str,
        pid: int,
        shard_ids: tuple[int, ...],
        shard_count: int,
        now: datetime,
        configured: tuple[int, ...] | None = None,
    ) -> None:
        """Write this process's row (again): its shards now, and those it was started for."""
        await self._db.execute(
            "INSERT INTO processes (name, host, pid, shard_ids, configured, shard_count, started_at, heartbeat_at, "
            "running) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (name) DO UPDATE SET host = excluded.host, "
            "pid = excluded.pid, shard_ids = excluded.shard_ids, configured = excluded.configured, "
            "shard_count = excluded.shard_count, started_at = excluded.started_at, "
            "heartbeat_at = excluded.heartbeat_at, latency_ms = NULL, running = 0, stopped_at = NULL",
            (
                name,
                host,
                pid,
                _text(shard_ids),
                _text(shard_ids if configured is None else configured),
                shard_count,
                to_ms(now),
                to_ms(now),
            ),
        )

    async def heartbeat(self, name: str, now: datetime, latency_ms: int | None, running: int) -> None:
        await self._db.execute(
            "UPDATE processes SET heartbeat_at = ?, latency_ms = ?, running = ? WHERE name = ?",
            (to_ms(now), latency_ms, running, name),
        )

    async def stopped(self, name: str, now: datetime) -> None:
        await self._db.execute(
            "UPDATE processes SET stopped_at = ?, heartbeat_at = ?, running = 0 WHERE name = ?",
            (to_ms(now), to_ms(now), name),
        )
