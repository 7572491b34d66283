"""`python -m bot status`: every process sharing the database, its shards, latency, last heartbeat and
the job queue's depth, read from the database (so it works from any machine that reaches it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.storage import Database
from bot.storage.jobs import JobsRepo
from bot.storage.processes import ProcessesRepo, ProcessRow


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    host: str
    pid: int
    shards: str  # "0,1 of 4", or "all" when not sharded
    latency_ms: int | None
    heartbeat_s_ago: float
    running: int
    state: str  # "live", "stale" (no heartbeat within the lease: stopped or dead) or "stopped"


@dataclass(frozen=True)
class Status:
    database: str
    version: int
    processes: list[ProcessStatus]
    queue: dict[str, int]  # due, later, running
    uncovered: list[int]  # shards no live process runs (when any process is sharded)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _state(row: ProcessRow, now: datetime, lease: timedelta) -> str:
    if row.stopped_at is not None:
        return "stopped"
    return "live" if now - row.heartbeat_at <= lease else "stale"


async def read_status(target: str | Path, now: datetime, lease: timedelta) -> Status:
    db = await Database.open(target)
    try:
        version = await db.version()
        # Heartbeats came with migrations 0013-0014; a database older than that (the bot never ran
        # on it since) has none, and one never migrated has no jobs either.
        rows = await ProcessesRepo(db).all() if version >= 14 else []
        queue = await JobsRepo(db).depth(now) if version >= 1 else {"due": 0, "later": 0, "running": 0}
    finally:
        await db.close()
    processes = [
        ProcessStatus(
            name=r.name,
            host=r.host,
            pid=r.pid,
            shards=f"{','.join(map(str, r.shard_ids))} of {r.shard_count}" if r.shard_ids else "all",
            latency_ms=r.latency_ms,
            heartbeat_s_ago=round((now - r.heartbeat_at).total_seconds(), 1),
            running=r.running,
            state=_state(r, now, lease),
        )
        for r in rows
    ]
    counts = {r.shard_count for r in rows if r.shard_ids}
    uncovered: list[int] = []
    if len(counts) == 1:
        (count,) = counts
        live = [r for r, p in zip(rows, processes, strict=True) if p.state == "live"]
        if not any(not r.shard_ids for r in live):
            covered = {s for r in live for s in r.shard_ids}
            uncovered = [s for s in range(count) if s not in covered]
    return Status(db.path, version, processes, queue, uncovered)


def render(status: Status) -> str:
    lines = [f"Database: {status.database} (schema version {status.version})"]
    if not status.processes:
        lines.append("No bot process has started on this database yet.")
    else:
        header = ("process", "host", "pid", "shards", "latency", "heartbeat", "running", "state")
        table = [header] + [
            (
                p.name,
                p.host,
                str(p.pid),
                p.shards,
                f"{p.latency_ms} ms" if p.latency_ms is not None else "—",
                f"{p.heartbeat_s_ago:g} s ago",
                str(p.running),
                p.state,
            )
            for p in status.processes
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        lines.append(f"Processes ({len(status.processes)}):")
        lines += [
            "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table
        ]
    q = status.queue
    lines.append(f"Jobs: {q['due']:,} due now, {q['later']:,} later, {q['running']:,} running")
    if status.uncovered:
        shards = ", ".join(map(str, status.uncovered))
        lines.append(f"No live process runs shard(s) {shards}: their servers' jobs wait until one does.")
    return "\n".join(lines)
