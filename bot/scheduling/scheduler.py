"""The durable job scheduler.

Jobs are rows (see `bot.storage.jobs`). One task sleeps until the next due row and is woken
when a sooner job is added. Handlers are registered by kind. A job is marked done only after
its handler returns; a raising handler is retried with doubling backoff, then marked failed
(and logged). On start, jobs left running by a crash are pending again, and jobs that fell due
while the bot was down run if they are within their kind's grace period, else are marked missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.scheduling.clock import Clock, ManualClock
from bot.storage.jobs import Job, JobsRepo

log = logging.getLogger(__name__)

JobHandler = Callable[[Job], Awaitable[None]]


class RetryLater(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a handler that cannot run yet (e.g. a missing permission): try again after `delay`.

    It does not count toward the kind's failure limit.
    """

    def __init__(self, delay: timedelta, reason: str) -> None:
        super().__init__(reason)
        self.delay = max(delay, timedelta(seconds=1))  # never zero: that would spin
        self.reason = reason


@dataclass(frozen=True)
class HandlerSpec:
    handler: JobHandler
    grace: timedelta
    max_attempts: int
    backoff: timedelta
    backoff_cap: timedelta


class Scheduler:
    def __init__(self, jobs: JobsRepo, clock: Clock, *, batch_size: int = 200, concurrency: int = 32) -> None:
        self._jobs = jobs
        self._clock = clock
        self._handlers: dict[str, HandlerSpec] = {}
        self._wake = asyncio.Event()
        self._run_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._batch_size = batch_size
        self._concurrency = concurrency
        self._gate: Callable[[], Awaitable[Any]] | None = None

    @property
    def clock(self) -> Clock:
        return self._clock

    def register(
        self,
        kind: str,
        handler: JobHandler,
        *,
        grace: timedelta = timedelta(minutes=10),
        max_attempts: int = 5,
        backoff: timedelta = timedelta(seconds=30),
        backoff_cap: timedelta = timedelta(hours=1),
    ) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        self._handlers[kind] = HandlerSpec(handler, grace, max_attempts, backoff, backoff_cap)

    def unregister(self, kind: str) -> None:
        """Forget a kind's handler (its jobs wait, pending, until a handler is registered again)."""
        self._handlers.pop(kind, None)

    async def schedule(
        self, kind: str, payload: dict[str, Any], due_at: datetime, *, dedupe_key: str | None = None
    ) -> int:
        """Add a job (or return the live one with the same dedupe key) and wake the loop."""
        job_id, created = await self._jobs.add(kind, payload, due_at, self._clock.now(), dedupe_key)
        if created:
            self._wake.set()
        return job_id

    async def ensure(self, kind: str, payload: dict[str, Any], due_at: datetime, *, dedupe_key: str) -> int:
        """Like `schedule`, but a live job with the key is moved to `due_at` if its time changed
        (e.g. a drama pack's air dates were corrected)."""
        job = await self._jobs.live_by_key(dedupe_key)
        if job is None:
            return await self.schedule(kind, payload, due_at, dedupe_key=dedupe_key)
        if job.state == "pending" and job.due_at != due_at:
            await self._jobs.move(job.id, due_at, self._clock.now())
            self._wake.set()
        return job.id

    async def cancel(self, job_id: int) -> bool:
        return await self._jobs.cancel(job_id, self._clock.now())

    async def cancel_key(self, dedupe_key: str) -> bool:
        return await self._jobs.cancel_key(dedupe_key, self._clock.now())

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self, gate: Callable[[], Awaitable[Any]] | None = None) -> None:
        """Recover from a crash, apply grace to overdue jobs, then start the loop.

        `gate` is awaited by the loop before it runs anything (the bot passes wait_until_ready).
        """
        now = self._clock.now()
        released = await self._jobs.release_running(now)
        if released:
            log.warning("%d job(s) were interrupted by a stop; they will run again", released)
        for job in await self._jobs.overdue(now):
            spec = self._handlers.get(job.kind)
            if spec is None:
                continue  # handled (and logged) when it is claimed
            late = now - job.due_at
            if late > spec.grace:
                await self._jobs.mark_missed(job.id, now, f"fell due {late} ago while the bot was down")
                log.warning(
                    "job %d (%s) missed: fell due %s ago, past its grace of %s",
                    job.id,
                    job.kind,
                    late,
                    spec.grace,
                )
        self._gate = gate
        self._task = asyncio.create_task(self._loop(), name="dramawatch-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        if self._gate is not None:
            await self._gate()
        while True:
            self._wake.clear()
            try:
                await self.run_due()
                next_due = await self._jobs.next_due()
            except Exception:
                log.exception("scheduler loop error; retrying in 5 s")
                await asyncio.sleep(5)
                continue
            if next_due is None:
                await self._clock.wait(self._wake, None)
                continue
            delay = (next_due - self._clock.now()).total_seconds()
            if delay > 0:
                await self._clock.wait(self._wake, delay)

    # -- running ------------------------------------------------------------------------------
    async def run_due(self) -> int:
        """Run every job due now, oldest first; returns how many ran. Safe to call concurrently."""
        ran = 0
        async with self._run_lock:
            while True:
                batch = await self._jobs.claim_due(self._clock.now(), self._batch_size)
                if not batch:
                    return ran
                # Started in due order, run side by side (bounded): one slow job — a feed that takes
                # its full timeout — must not hold back a reminder that falls due at the same time.
                limit = asyncio.Semaphore(self._concurrency)
                await asyncio.gather(*(self._run_limited(job, limit) for job in batch))
                ran += len(batch)

    async def advance_to(self, target: datetime) -> int:
        """(Manual clock only) move time to `target`, stopping at each due job so it runs on time."""
        clock = self._clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advance_to needs a ManualClock")
        ran = 0
        while True:
            next_due = await self._jobs.next_due()
            if next_due is None or next_due > target:
                break
            if next_due > clock.now():
                clock.set(next_due)
            ran += await self.run_due()
        if target > clock.now():
            clock.set(target)
        ran += await self.run_due()
        return ran

    async def _run_limited(self, job: Job, limit: asyncio.Semaphore) -> None:
        async with limit:
            await self._run(job)

    async def _run(self, job: Job) -> None:
        spec = self._handlers.get(job.kind)
        if spec is None:
            await self._jobs.mark_failed(job.id, self._clock.now(), f"no handler registered for {job.kind!r}")
            log.error("job %d: no handler registered for kind %r", job.id, job.kind)
            return
        try:
            await spec.handler(job)
        except RetryLater as exc:
            due = self._clock.now() + exc.delay
            await self._jobs.reschedule(job.id, due, self._clock.now(), exc.reason, refund_attempt=True)
            # Waiting does not use up attempts.
            log.info("job %d (%s) waits until %s: %s", job.id, job.kind, due.isoformat(), exc.reason)
            return
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if job.attempts >= spec.max_attempts:
                await self._jobs.mark_failed(job.id, self._clock.now(), error)
                log.error(
                    "job %d (%s) failed after %d attempts: %s",
                    job.id,
                    job.kind,
                    job.attempts,
                    error,
                    exc_info=exc,
                )
                return
            delay = min(spec.backoff * (2 ** (job.attempts - 1)), spec.backoff_cap)
            await self._jobs.reschedule(job.id, self._clock.now() + delay, self._clock.now(), error)
            log.warning(
                "job %d (%s) attempt %d failed (%s); retrying in %s",
                job.id,
                job.kind,
                job.attempts,
                error,
                delay,
            )
            return
        await self._jobs.mark_done(job.id, self._clock.now())
