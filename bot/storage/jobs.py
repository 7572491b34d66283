"""The durable job queue: one row per job (kind, JSON payload, due time, state)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.storage.database import Database


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a timezone-aware time")
    return int(round(moment.timestamp() * 1000))


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    due_at: datetime
    state: str
    attempts: int
    last_error: str | None
    dedupe_key: str | None


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        due_at=from_ms(row["due_at"]),
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        dedupe_key=row["dedupe_key"],
    )


class JobsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        kind: str,
        payload: dict[str, Any],
        due_at: datetime,
        now: datetime,
        dedupe_key: str | None = None,
    ) -> tuple[int, bool]:
        """Insert a pending job; returns (id, created). A live job with the same dedupe key wins."""
        async with self._db.transaction():
            if dedupe_key is not None:
                row = await self._db.fetchone(
                    "SELECT id FROM jobs WHERE dedupe_key = ? AND state IN ('pending', 'running')",
                    (dedupe_key,),
                )
                if row is not None:
                    return row["id"], False
            job_id = await self._db.execute(
                "INSERT INTO jobs (kind, payload, due_at, state, dedupe_key, created_at, updated_at) "
                "VALUES (?, ?, ?, 'pending', ?, ?, ?)",
                (
                    kind,
                    json.dumps(payload, sort_keys=True),
                    to_ms(due_at),
                    dedupe_key,
                    to_ms(now),
                    to_ms(now),
                ),
            )
        return job_id, True

    async def get(self, job_id: int) -> Job | None:
        row = await self._db.fetchone(
            "SELECT id, kind, payload, due_at, state, attempts, last_error, dedupe_key FROM jobs WHERE id = ?",
            (job_id,),
        )
        return _job(row) if row else None

    async def live_by_key(self, dedupe_key: str) -> Job | None:
        row = await self._db.fetchone(
            "SELECT id, kind, payload, due_at, state, attempts, last_error, dedupe_key FROM jobs "
            "WHERE dedupe_key = ? AND state IN ('pending', 'running')",
            (dedupe_key,),
        )
        return _job(row) if row else None

    async def move(self, job_id: int, due_at: datetime, now: datetime) -> bool:
        """Change a pending job's due time."""
        changed = await self._db.execute(
            "UPDATE jobs SET due_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
            (to_ms(due_at), to_ms(now), job_id),
        )
        return changed > 0

    async def next_due(self) -> datetime | None:
        row = await self._db.fetchone("SELECT MIN(due_at) AS due FROM jobs WHERE state = 'pending'")
        return from_ms(row["due"]) if row and row["due"] is not None else None

    async def overdue(self, now: datetime) -> list[Job]:
        rows = await self._db.fetchall(
            "SELECT id, kind, payload, due_at, state, attempts, last_error, dedupe_key FROM jobs "
            "WHERE state = 'pending' AND due_at < ? ORDER BY due_at, id",
            (to_ms(now),),
        )
        return [_job(r) for r in rows]

    async def claim_due(self, now: datetime, limit: int) -> list[Job]:
        """Mark up to `limit` due jobs running (attempts + 1), oldest due first, and return them."""
        async with self._db.transaction():
            rows = await self._db.fetchall(
                "SELECT id, kind, payload, due_at, state, attempts, last_error, dedupe_key FROM jobs "
                "WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
                (to_ms(now), limit),
            )
            if not rows:
                return []
            ids = [r["id"] for r in rows]
            await self._db.executemany(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?",
                [(to_ms(now), i) for i in ids],
            )
        return [
            Job(j.id, j.kind, j.payload, j.due_at, "running", j.attempts + 1, j.last_error, j.dedupe_key)
            for j in map(_job, rows)
        ]

    async def _set_state(self, job_id: int, state: str, now: datetime, error: str | None = None) -> None:
        await self._db.execute(
            "UPDATE jobs SET state = ?, last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?",
            (state, error, to_ms(now), job_id),
        )

    async def mark_done(self, job_id: int, now: datetime) -> None:
        await self._set_state(job_id, "done", now)

    async def mark_failed(self, job_id: int, now: datetime, error: str) -> None:
        await self._set_state(job_id, "failed", now, error)

    async def mark_missed(self, job_id: int, now: datetime, reason: str) -> None:
        await self._set_state(job_id, "missed", now, reason)

    async def reschedule(
        self, job_id: int, due_at: datetime, now: datetime, error: str | None, *, refund_attempt: bool = False
    ) -> None:
        """Back to pending at `due_at`; `refund_attempt` takes back the attempt the claim counted."""
        await self._db.execute(
            "UPDATE jobs SET state = 'pending', due_at = ?, last_error = COALESCE(?, last_error), updated_at = ?, "
            "attempts = attempts - ? WHERE id = ?",
            (to_ms(due_at), error, to_ms(now), 1 if refund_attempt else 0, job_id),
        )

    async def cancel(self, job_id: int, now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE jobs SET state = 'cancelled', updated_at = ? WHERE id = ? AND state = 'pending'",
            (to_ms(now), job_id),
        )
        return changed > 0

    async def cancel_key(self, dedupe_key: str, now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE jobs SET state = 'cancelled', updated_at = ? WHERE dedupe_key = ? AND state = 'pending'",
            (to_ms(now), dedupe_key),
        )
        return changed > 0

    async def release_running(self, now: datetime) -> int:
        """After a crash: jobs left running were not finished, so they are pending again."""
        return await self._db.execute(
            "UPDATE jobs SET state = 'pending', updated_at = ? WHERE state = 'running'", (to_ms(now),)
        )

    async def count_by_state(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        return {r["state"]: r["n"] for r in rows}
