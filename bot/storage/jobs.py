"""The durable job queue: one row per job (kind, JSON payload, due time, state).

Several processes may share the queue (PostgreSQL): each claims due jobs under its name with a
lease (`claimed_by`, `lease_until`) and renews the lease while it runs them; a job whose lease ran
out is released for another process to claim. A job's `guild_id` (its payload's "guild_id") says
which server it works for, so a sharded process claims only its servers' jobs (`shards`)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.storage.database import Database, StorageError


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


@dataclass(frozen=True)
class Outcome:
    """How a run ended, written later with others in one batch (`JobsRepo.finish`).

    state: "done", "failed", "missed", or "pending" (run again at `due_at`).
    """

    job_id: int
    state: str
    error: str | None = None
    due_at: datetime | None = None
    refund_attempt: bool = False


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


# A pending job; a live job with the same key already there (the partial unique index
# jobs_live_dedupe) is kept instead.
_INSERT_JOB = (
    "INSERT INTO jobs (kind, payload, due_at, state, dedupe_key, created_at, updated_at, guild_id) "
    "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?) "
    "ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('pending', 'running') DO NOTHING"
)
_INSERT_JOB_RETURNING_ID = (
    "INSERT INTO jobs (kind, payload, due_at, state, dedupe_key, created_at, updated_at, guild_id) "
    "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?) "
    "ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('pending', 'running') DO NOTHING "
    "RETURNING id"
)


def _guild(payload: dict[str, Any]) -> int | None:
    value = payload.get("guild_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _shard_filter(shards: Collection[int] | None, shard_count: int) -> tuple[str, tuple[int, ...]]:
    """SQL (and its parameters) keeping jobs of these shards and jobs of no server; none: every job."""
    if shards is None:
        return "", ()
    if not shards:
        return " AND guild_id IS NULL", ()
    marks = ", ".join("?" for _ in shards)
    # A server's shard is (guild_id >> 22) % shard_count (Discord's rule).
    return f" AND (guild_id IS NULL OR (guild_id >> 22) % ? IN ({marks}))", (shard_count, *sorted(shards))


class JobsRepo:
    """`name` is the process claiming (its claims are its own to renew, finish and release) and
    `lease` how long a claim holds without renewal; `shard_count` reads the `shards` given to
    `claim_due`, `next_due` and `overdue`."""

    def __init__(
        self, db: Database, *, name: str = "main", lease: timedelta = timedelta(seconds=60), shard_count: int = 1
    ) -> None:
        self._db = db
        self.name = name
        self.lease = lease
        self.shard_count = shard_count

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
            # ON CONFLICT: another process may add the same live key between the look and the insert
            # (PostgreSQL's transactions don't serialise them); then its job is the one.
            inserted = await self._db.fetchone(
                _INSERT_JOB_RETURNING_ID,
                (
                    kind,
                    json.dumps(payload, sort_keys=True),
                    to_ms(due_at),
                    dedupe_key,
                    to_ms(now),
                    to_ms(now),
                    _guild(payload),
                ),
            )
            if inserted is None:
                live = await self.live_by_key(dedupe_key or "")
                if live is None:
                    raise StorageError(f"job {kind} {dedupe_key}: neither added nor found")
                return live.id, False
        return int(inserted["id"]), True

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

    async def ensure_many(
        self, kind: str, wanted: Sequence[tuple[dict[str, Any], datetime, str]], now: datetime, *, move: bool = True
    ) -> int:
        """For each (payload, due, dedupe key): add a pending job unless one is live with the key, or
        (with `move`) move a live pending one whose due time differs. One transaction; returns how
        many changed."""
        changed = 0
        hint = "INDEXED BY jobs_live_dedupe " if self._db.dialect == "sqlite" else ""
        async with self._db.transaction():
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                rows = await self._db.fetchall(
                    # INDEXED BY: with 100k pending jobs SQLite's planner picks the state index and
                    # scans every pending job per chunk (80 ms each, 1.7 s for 10k feeds at start);
                    # the live-dedupe index answers in 1 ms. (SQLite syntax: PostgreSQL needs no hint.)
                    f"SELECT id, dedupe_key, due_at, state FROM jobs {hint}"  # noqa: S608
                    f"WHERE dedupe_key IN ({marks}) AND dedupe_key IS NOT NULL AND state IN ('pending', 'running')",
                    [key for _, _, key in chunk],
                )
                live = {r["dedupe_key"]: r for r in rows}
                moves = [
                    (to_ms(due), to_ms(now), live[key]["id"])
                    for _, due, key in chunk
                    if move and key in live and live[key]["state"] == "pending" and live[key]["due_at"] != to_ms(due)
                ]
                new = [
                    (
                        kind,
                        json.dumps(payload, sort_keys=True),
                        to_ms(due),
                        key,
                        to_ms(now),
                        to_ms(now),
                        _guild(payload),
                    )
                    for payload, due, key in {key: (p, d, key) for p, d, key in chunk if key not in live}.values()
                ]
                if moves:
                    await self._db.executemany(
                        "UPDATE jobs SET due_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'", moves
                    )
                if new:
                    await self._db.executemany(_INSERT_JOB, new)
                changed += len(moves) + len(new)
        return changed

    async def move(self, job_id: int, due_at: datetime, now: datetime) -> bool:
        """Change a pending job's due time."""
        changed = await self._db.execute(
            "UPDATE jobs SET due_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
            (to_ms(due_at), to_ms(now), job_id),
        )
        return changed > 0

    async def overdue(self, now: datetime, shards: Collection[int] | None = None) -> list[Job]:
        only, params = _shard_filter(shards, self.shard_count)
        rows = await self._db.fetchall(
            "SELECT id, kind, payload, due_at, state, attempts, last_error, dedupe_key FROM jobs "  # noqa: S608
            f"WHERE state = 'pending' AND due_at < ?{only} ORDER BY due_at, id",
            (to_ms(now), *params),
        )
        return [_job(r) for r in rows]

    async def next_due(
        self, exclude_kinds: Collection[str] = (), shards: Collection[int] | None = None
    ) -> datetime | None:
        """The earliest due time of a pending job (of a kind not in `exclude_kinds`, of `shards`)."""
        marks = ", ".join("?" for _ in exclude_kinds)
        sql = "SELECT MIN(due_at) AS due FROM jobs WHERE state = 'pending'"
        if exclude_kinds:
            sql += f" AND kind NOT IN ({marks})"
        only, params = _shard_filter(shards, self.shard_count)
        row = await self._db.fetchone(sql + only, (*exclude_kinds, *params))
        return from_ms(row["due"]) if row and row["due"] is not None else None

    async def claim_due(
        self, now: datetime, limit: int, exclude_kinds: Collection[str] = (), shards: Collection[int] | None = None
    ) -> list[Job]:
        """Claim up to `limit` due jobs (running, attempts + 1, under this process's name and lease),
        oldest due first, and return them.

        One statement (UPDATE … RETURNING), so one trip to the database and atomic on its own. On
        PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED: processes claiming at once each get
        other jobs, none waits for another's claim.
        """
        marks = ", ".join("?" for _ in exclude_kinds)
        only, params = _shard_filter(shards, self.shard_count)
        where = "state = 'pending' AND due_at <= ?" + (f" AND kind NOT IN ({marks})" if exclude_kinds else "") + only
        # PostgreSQL: the rows are locked as they are picked (SKIP LOCKED), and the outer `state` test
        # is read again after any wait for a lock. SQLite has one writer: no second test, which would
        # also lead its planner to scan every pending job through the state index (30 ms a claim at
        # 200,000 pending jobs).
        postgres = self._db.dialect == "postgresql"
        skip = " FOR UPDATE SKIP LOCKED" if postgres else ""
        again = "state = 'pending' AND " if postgres else ""
        sql = (
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?, claimed_by = ?, "  # noqa: S608 - only "?" marks
            f"lease_until = ? WHERE {again}id IN (SELECT id FROM jobs WHERE {where} ORDER BY due_at, id "
            f"LIMIT ?{skip}) "
            "RETURNING id, kind, payload, due_at, state, attempts, last_error, dedupe_key"
        )
        at = to_ms(now)
        rows = await self._db.fetchall(sql, (at, self.name, at + self._lease_ms, at, *exclude_kinds, *params, limit))
        return sorted(map(_job, rows), key=lambda j: (j.due_at, j.id))

    @property
    def _lease_ms(self) -> int:
        return int(self.lease.total_seconds() * 1000)

    async def renew(self, now: datetime) -> int:
        """Extend the lease of every job this process is running; returns how many."""
        return await self._db.execute(
            "UPDATE jobs SET lease_until = ? WHERE claimed_by = ? AND state = 'running'",
            (to_ms(now) + self._lease_ms, self.name),
        )

    async def release_expired(self, now: datetime) -> int:
        """Make pending again the jobs whose lease ran out (their process stopped renewing: it died),
        for a process of their server's shard to claim; this process's own are never released here."""
        return await self._db.execute(
            "UPDATE jobs SET state = 'pending', claimed_by = NULL, lease_until = NULL, updated_at = ? "
            "WHERE state = 'running' AND lease_until < ? AND claimed_by <> ?",
            (to_ms(now), to_ms(now), self.name),
        )

    async def finish(self, now: datetime, outcomes: Sequence[Outcome]) -> None:
        """Write the outcomes of many finished jobs in one transaction (done in one UPDATE)."""
        done = [o.job_id for o in outcomes if o.state == "done"]
        ended = [(o.state, o.error, to_ms(now), o.job_id) for o in outcomes if o.state in ("failed", "missed")]
        again = [
            (to_ms(o.due_at), o.error, to_ms(now), 1 if o.refund_attempt else 0, o.job_id)
            for o in outcomes
            if o.state == "pending" and o.due_at is not None
        ]
        # Only while the claim is still this process's: a job another process took over (this one
        # stopped renewing: it froze, or lost the database) is that process's to finish now.
        async with self._db.transaction():
            for start in range(0, len(done), 500):
                chunk = done[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                await self._db.execute(
                    "UPDATE jobs SET state = 'done', updated_at = ?, claimed_by = NULL, lease_until = NULL "  # noqa: S608 - only "?" marks
                    f"WHERE id IN ({marks}) AND claimed_by = ?",
                    (to_ms(now), *chunk, self.name),
                )
            if ended:
                await self._db.executemany(
                    "UPDATE jobs SET state = ?, last_error = COALESCE(?, last_error), updated_at = ?, "
                    "claimed_by = NULL, lease_until = NULL WHERE id = ? AND claimed_by = ?",
                    [(*row, self.name) for row in ended],
                )
            if again:
                await self._db.executemany(
                    "UPDATE jobs SET state = 'pending', due_at = ?, last_error = COALESCE(?, last_error), "
                    "updated_at = ?, attempts = attempts - ?, claimed_by = NULL, lease_until = NULL "
                    "WHERE id = ? AND claimed_by = ?",
                    [(*row, self.name) for row in again],
                )

    async def miss(self, now: datetime, missed: Sequence[tuple[int, str]]) -> None:
        """Mark pending jobs missed (job id, why): those that fell due too long ago while no process ran."""
        await self._db.executemany(
            "UPDATE jobs SET state = 'missed', last_error = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
            [(why, to_ms(now), job_id) for job_id, why in missed],
        )

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
        """At start: the jobs this process (by its name) left running when it stopped were not
        finished, so they are pending again; so are those claimed before claims had names."""
        return await self._db.execute(
            "UPDATE jobs SET state = 'pending', updated_at = ?, claimed_by = NULL, lease_until = NULL "
            "WHERE state = 'running' AND (claimed_by = ? OR claimed_by IS NULL)",
            (to_ms(now), self.name),
        )

    async def depth(self, now: datetime) -> dict[str, int]:
        """Queue depth: jobs due and waiting, pending later, and running (for `status`)."""
        row = await self._db.fetchone(
            "SELECT COALESCE(SUM(CASE WHEN state = 'pending' AND due_at <= ? THEN 1 ELSE 0 END), 0) AS due, "
            "COALESCE(SUM(CASE WHEN state = 'pending' AND due_at > ? THEN 1 ELSE 0 END), 0) AS later, "
            "COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0) AS running "
            "FROM jobs WHERE state IN ('pending', 'running')",
            (to_ms(now), to_ms(now)),
        )
        return {k: int(row[k]) if row else 0 for k in ("due", "later", "running")}

    async def count_by_state(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        return {r["state"]: r["n"] for r in rows}
