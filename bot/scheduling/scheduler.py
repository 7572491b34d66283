"""The durable job scheduler.

Jobs are rows (see `bot.storage.jobs`). One task sleeps until the next due row and is woken when a
sooner job is added or a running one finishes. Handlers are registered by kind.

A sliding window: due jobs are claimed oldest first and each runs as its own task, so a slow job
(a feed that takes its whole timeout) holds one slot and delays nothing else; a finished job frees
its slot, which the loop fills at once. No kind may take more than half the window, so one kind
with a backlog cannot starve the others. State changes are written in batches: whatever finished
while the previous write was in flight goes out in one transaction (group commit), so the cost per
job does not include a commit of its own.

A job is marked done only after its handler returns (a crash before the batch is written runs it
again on start, which handlers already tolerate: their posts are claimed in SQLite and carry
nonces). A raising handler is retried with doubling backoff, then marked failed (and logged). On
start, jobs left running by a crash are pending again, and jobs that fell due while the bot was
down run if they are within their kind's grace period, else are marked missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.scheduling.clock import Clock, ManualClock
from bot.storage.jobs import Job, JobsRepo, Outcome

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
    def __init__(
        self,
        jobs: JobsRepo,
        clock: Clock,
        *,
        batch_size: int = 200,
        concurrency: int = 1024,
        shards: Collection[int] | None = None,
        poll: float | None = None,
    ) -> None:
        """`shards`: run only jobs of servers on these shards (and jobs of no server); None: every job.
        `poll`: look at the queue at least this often (seconds), for jobs other processes added or
        released; None: only when this process adds one or the next one falls due."""
        self._jobs = jobs
        self._shards = frozenset(shards) if shards is not None else None
        self._poll = poll
        self._clock = clock
        self._handlers: dict[str, HandlerSpec] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._step: asyncio.Future[float | None] | None = None
        self._batch_size = batch_size
        self._window = max(1, concurrency)
        self._per_kind = max(1, concurrency // 2)
        self._gate: Callable[[], Awaitable[Any]] | None = None
        self._running: dict[int, asyncio.Task[None]] = {}  # job id → its task
        self._kinds: Counter[str] = Counter()  # running jobs per kind
        self._outcomes: list[Outcome] = []  # finished, not yet written
        self._claim_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()

    @property
    def clock(self) -> Clock:
        return self._clock

    def wake(self) -> None:
        """Look at the queue now (e.g. jobs another process left were released for this one)."""
        self._wake.set()

    @property
    def running(self) -> int:
        """Jobs running in this process now."""
        return len(self._running)

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
        if dedupe_key is not None:
            await self.flush()  # a finished job must not pass for a live one
        job_id, created = await self._jobs.add(kind, payload, due_at, self._clock.now(), dedupe_key)
        if created:
            self._wake.set()
        return job_id

    async def ensure(self, kind: str, payload: dict[str, Any], due_at: datetime, *, dedupe_key: str) -> int:
        """Like `schedule`, but a live job with the key is moved to `due_at` if its time changed
        (e.g. a drama pack's air dates were corrected)."""
        await self.flush()
        job = await self._jobs.live_by_key(dedupe_key)
        if job is None:
            return await self.schedule(kind, payload, due_at, dedupe_key=dedupe_key)
        if job.state == "pending" and job.due_at != due_at:
            await self._jobs.move(job.id, due_at, self._clock.now())
            self._wake.set()
        return job.id

    async def ensure_many(
        self, kind: str, wanted: list[tuple[dict[str, Any], datetime, str]], *, move: bool = True
    ) -> int:
        """`ensure` for many jobs of one kind at once — (payload, due, dedupe key) each — in one
        transaction (e.g. every feed's poll at start). Returns how many were added or moved."""
        if not wanted:
            return 0
        await self.flush()
        changed = await self._jobs.ensure_many(kind, wanted, self._clock.now(), move=move)
        if changed:
            self._wake.set()
        return changed

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
        missed: list[tuple[int, str]] = []
        for job in await self._jobs.overdue(now, self._shards):
            spec = self._handlers.get(job.kind)
            if spec is None:
                continue  # handled (and logged) when it is claimed
            late = now - job.due_at
            if late > spec.grace:
                missed.append((job.id, f"fell due {late} ago while the bot was down"))
                log.warning(
                    "job %d (%s) missed: fell due %s ago, past its grace of %s",
                    job.id,
                    job.kind,
                    late,
                    spec.grace,
                )
        if missed:
            await self._jobs.miss(now, missed)
        self._gate = gate
        self._task = asyncio.create_task(self._loop(), name="dramawatch-scheduler")

    async def stop(self) -> None:
        """Stop the loop and the jobs still running (they run again on the next start), and write
        what finished."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._step is not None:  # a database step the loop was in: let it end cleanly
            await asyncio.gather(self._step, return_exceptions=True)
            self._step = None
        running = list(self._running.values())
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        try:
            await self.flush()
        except Exception:
            log.exception(
                "could not write the outcomes of %d job(s); they run again on the next start", len(self._outcomes)
            )

    async def settled(self) -> None:
        """Until no job is running and every outcome is written (tests and benchmarks)."""
        while self._running or self._outcomes:
            if self._running:
                await asyncio.wait(list(self._running.values()))
            await self.flush()

    async def _loop(self) -> None:
        if self._gate is not None:
            await self._gate()
        while True:
            self._wake.clear()
            try:
                # Shielded: stop() cancels the loop between steps, never inside a database write.
                self._step = asyncio.ensure_future(self._one_step())
                delay = await asyncio.shield(self._step)
                self._step = None
            except Exception:
                log.exception("scheduler loop error; retrying in 5 s")
                await asyncio.sleep(5)
                continue
            if self._poll is not None:
                delay = self._poll if delay is None else min(delay, self._poll)
            if delay is None or delay > 0:
                await self._clock.wait(self._wake, delay)

    async def _one_step(self) -> float | None:
        await self.flush()
        await self._fill()
        return await self._delay()

    async def _delay(self) -> float | None:
        """Seconds until the loop has something to do; None: until it is woken."""
        if len(self._running) >= self._window or self._outcomes:
            return None if not self._outcomes else 0.0
        next_due = await self._jobs.next_due(self._full_kinds(), self._shards)
        if next_due is None:
            return None
        return max(0.0, (next_due - self._clock.now()).total_seconds())

    # -- running ------------------------------------------------------------------------------
    def _full_kinds(self) -> list[str]:
        return [kind for kind, n in self._kinds.items() if n >= self._per_kind]

    async def _fill(self) -> int:
        """Claim due jobs into the free slots of the window and start them; returns how many."""
        started = 0
        async with self._claim_lock:
            while True:
                free = self._window - len(self._running)
                if free <= 0:
                    return started
                limit = min(self._batch_size, free)
                batch = await self._jobs.claim_due(self._clock.now(), limit, self._full_kinds(), self._shards)
                for job in batch:
                    self._start_job(job)
                started += len(batch)
                if len(batch) < limit:
                    return started

    def _start_job(self, job: Job) -> None:
        task = asyncio.create_task(self._run(job), name=f"dramawatch-job-{job.id}")
        self._running[job.id] = task
        self._kinds[job.kind] += 1
        task.add_done_callback(functools.partial(self._ended, job))

    def _ended(self, job: Job, _task: asyncio.Task[None]) -> None:
        self._running.pop(job.id, None)
        self._kinds[job.kind] -= 1
        if self._kinds[job.kind] <= 0:
            del self._kinds[job.kind]
        self._wake.set()  # a free slot, and an outcome to write

    async def flush(self) -> None:
        """Write every finished job's outcome (one transaction for all of them)."""
        async with self._write_lock:
            if not self._outcomes:
                return
            outcomes, self._outcomes = self._outcomes, []
            try:
                await self._jobs.finish(self._clock.now(), outcomes)
            except BaseException:
                self._outcomes[:0] = outcomes  # written next time
                raise
        if any(o.state == "pending" for o in outcomes):
            self._wake.set()  # a retry may now be the next due job

    async def run_due(self) -> int:
        """Run every job due now, oldest first, and wait until they (and their writes) are done;
        returns how many this call started. Safe to call while the loop runs."""
        ran = 0
        while True:
            await self.flush()
            started = await self._fill()
            ran += started
            if started:
                continue
            if self._running:
                await asyncio.wait(list(self._running.values()), return_when=asyncio.FIRST_COMPLETED)
                continue
            if self._outcomes:
                continue
            return ran

    async def advance_to(self, target: datetime) -> int:
        """(Manual clock only) move time to `target`, stopping at each due job so it runs on time."""
        clock = self._clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advance_to needs a ManualClock")
        ran = 0
        while True:
            await self.settled()
            next_due = await self._jobs.next_due(shards=self._shards)
            if next_due is None or next_due > target:
                break
            if next_due > clock.now():
                clock.set(next_due)
            ran += await self.run_due()
        if target > clock.now():
            clock.set(target)
        ran += await self.run_due()
        return ran

    async def _run(self, job: Job) -> None:
        spec = self._handlers.get(job.kind)
        if spec is None:
            self._outcomes.append(Outcome(job.id, "failed", f"no handler registered for {job.kind!r}"))
            log.error("job %d: no handler registered for kind %r", job.id, job.kind)
            return
        try:
            await spec.handler(job)
        except RetryLater as exc:
            due = self._clock.now() + exc.delay
            # Waiting does not use up attempts.
            self._outcomes.append(Outcome(job.id, "pending", exc.reason, due, refund_attempt=True))
            log.info("job %d (%s) waits until %s: %s", job.id, job.kind, due.isoformat(), exc.reason)
            return
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if job.attempts >= spec.max_attempts:
                self._outcomes.append(Outcome(job.id, "failed", error))
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
            self._outcomes.append(Outcome(job.id, "pending", error, self._clock.now() + delay))
            log.warning(
                "job %d (%s) attempt %d failed (%s); retrying in %s",
                job.id,
                job.kind,
                job.attempts,
                error,
                delay,
            )
            return
        self._outcomes.append(Outcome(job.id, "done"))
