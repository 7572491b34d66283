"""bot.scheduling: the durable scheduler on a ManualClock over real SQLite. Nothing here sleeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.scheduling import ManualClock, RetryLater, Scheduler, SystemClock
from bot.storage import Database
from bot.storage.jobs import Job, JobsRepo, from_ms, to_ms

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SAFETY = 5  # seconds: only a net against a hang, never part of an assertion


class RecordingClock(ManualClock):
    """A ManualClock that records each wait of the scheduler loop (the seconds it meant to sleep)."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.waits: list[float | None] = []
        self._entered = asyncio.Event()

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        self.waits.append(seconds)
        self._entered.set()
        await super().wait(event, seconds)

    async def until_waits(self, count: int) -> None:
        """Until the loop has gone to sleep `count` times in all."""
        while len(self.waits) < count:
            self._entered.clear()
            await asyncio.wait_for(self._entered.wait(), SAFETY)


class Recorder:
    """A handler that records the job names it ran and the clock time each ran at."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[str] = []
        self.times: list[datetime] = []
        self.fired = asyncio.Event()

    async def __call__(self, job: Job) -> None:
        self.calls.append(job.payload["name"])
        self.times.append(self.clock.now())
        self.fired.set()


def never_ready() -> asyncio.Future[None]:
    """A gate that never opens: start() does its recovery, the loop itself runs nothing."""
    return asyncio.get_running_loop().create_future()


@asynccontextmanager
async def open_db(path: Path) -> AsyncIterator[Database]:
    db = await Database.open(path)
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def jobs(db: Database) -> JobsRepo:
    return JobsRepo(db)


@pytest.fixture
async def scheduler(jobs: JobsRepo, clock: ManualClock) -> AsyncIterator[Scheduler]:
    sched = Scheduler(jobs, clock)
    try:
        yield sched
    finally:
        await sched.stop()


@pytest.fixture
def recorder(scheduler: Scheduler, clock: ManualClock) -> Recorder:
    rec = Recorder(clock)
    scheduler.register("ping", rec)
    return rec


# -- order and timing ------------------------------------------------------------------------------
async def test_jobs_fire_in_due_order_at_their_due_time(
    scheduler: Scheduler, recorder: Recorder, jobs: JobsRepo, clock: ManualClock
) -> None:
    ids = {}
    for name, minutes in [("c", 3), ("a", 1), ("b", 2), ("a2", 1)]:
        ids[name] = await scheduler.schedule("ping", {"name": name}, T0 + timedelta(minutes=minutes))

    ran = await scheduler.advance_to(T0 + timedelta(minutes=10))

    assert ran == 4
    assert recorder.calls == ["a", "a2", "b", "c"]  # equal due times: first scheduled first
    assert recorder.times == [T0 + timedelta(minutes=m) for m in (1, 1, 2, 3)]
    assert clock.now() == T0 + timedelta(minutes=10)
    for job_id in ids.values():
        job = await jobs.get(job_id)
        assert job is not None and job.state == "done" and job.attempts == 1


async def test_overdue_jobs_run_oldest_due_first(scheduler: Scheduler, recorder: Recorder, clock: ManualClock) -> None:
    for name, minutes in [("third", 3), ("first", 1), ("second", 2)]:
        await scheduler.schedule("ping", {"name": name}, T0 + timedelta(minutes=minutes))
    clock.set(T0 + timedelta(minutes=10))
    assert await scheduler.run_due() == 3
    assert recorder.calls == ["first", "second", "third"]


async def test_run_due_runs_only_what_is_due(
    scheduler: Scheduler, recorder: Recorder, jobs: JobsRepo, clock: ManualClock
) -> None:
    soon = await scheduler.schedule("ping", {"name": "soon"}, T0 + timedelta(minutes=1))
    later = await scheduler.schedule("ping", {"name": "later"}, T0 + timedelta(hours=1))

    assert await scheduler.run_due() == 0
    clock.advance(timedelta(minutes=1))
    assert await scheduler.run_due() == 1
    assert await scheduler.run_due() == 0
    assert recorder.calls == ["soon"]
    assert (await jobs.get(soon)).state == "done"  # type: ignore[union-attr]
    assert (await jobs.get(later)).state == "pending"  # type: ignore[union-attr]
    assert await jobs.next_due() == T0 + timedelta(hours=1)


async def test_run_due_drains_more_than_one_batch(jobs: JobsRepo, clock: ManualClock) -> None:
    sched = Scheduler(jobs, clock, batch_size=2)
    rec = Recorder(clock)
    sched.register("ping", rec)
    for i in range(5):
        await sched.schedule("ping", {"name": f"j{i}"}, T0)
    assert await sched.run_due() == 5
    assert rec.calls == [f"j{i}" for i in range(5)]


async def test_a_sooner_job_wakes_the_running_loop_early(db: Database) -> None:
    clock = RecordingClock(T0)
    jobs = JobsRepo(db)
    sched = Scheduler(jobs, clock)
    rec = Recorder(clock)
    sched.register("ping", rec)
    await sched.start()
    try:
        await clock.until_waits(1)
        assert clock.waits == [None]  # nothing to do: sleeps until woken

        later = await sched.schedule("ping", {"name": "later"}, T0 + timedelta(hours=1))
        await clock.until_waits(2)
        assert clock.waits[-1] == 3600

        sooner = await sched.schedule("ping", {"name": "sooner"}, T0 + timedelta(minutes=10))
        # Woken by the insert alone (time has not moved), the loop now sleeps only until the sooner job.
        await clock.until_waits(3)
        assert clock.waits[-1] == 600
        assert clock.now() == T0
        assert rec.calls == []

        clock.set(T0 + timedelta(minutes=10))
        await asyncio.wait_for(rec.fired.wait(), SAFETY)
        await clock.until_waits(4)
        await sched.settled()  # the outcome is written in the next batch
        assert rec.calls == ["sooner"]
        assert rec.times == [T0 + timedelta(minutes=10)]
        assert clock.waits[-1] == 3000  # back to sleep until the later job
        assert (await jobs.get(sooner)).state == "done"  # type: ignore[union-attr]
        assert (await jobs.get(later)).state == "pending"  # type: ignore[union-attr]
    finally:
        await sched.stop()


# -- restarts and crashes ------------------------------------------------------------------------------
async def test_survives_a_restart_and_runs_what_is_due_exactly_once(db_path: Path) -> None:
    async with open_db(db_path) as db:
        clock = ManualClock(T0)
        first = Scheduler(JobsRepo(db), clock)
        rec1 = Recorder(clock)
        first.register("ping", rec1)
        await first.schedule("ping", {"name": "early"}, T0 + timedelta(minutes=1))
        await first.schedule("ping", {"name": "late"}, T0 + timedelta(hours=2))
        await first.schedule("ping", {"name": "tomorrow"}, T0 + timedelta(days=1))
        assert await first.advance_to(T0 + timedelta(minutes=5)) == 1
        assert rec1.calls == ["early"]
        await first.stop()

    # The bot was down; it comes back five minutes after "late" fell due (within the default grace).
    async with open_db(db_path) as db:
        clock2 = ManualClock(T0 + timedelta(hours=2, minutes=5))
        second = Scheduler(JobsRepo(db), clock2)
        rec2 = Recorder(clock2)
        second.register("ping", rec2)
        await second.start(gate=never_ready)
        try:
            assert await second.run_due() == 1
            assert await second.run_due() == 0
            assert rec2.calls == ["late"]
            assert await second.advance_to(T0 + timedelta(hours=23)) == 0
            assert await second.advance_to(T0 + timedelta(days=2)) == 1
            assert rec2.calls == ["late", "tomorrow"]
            assert await JobsRepo(db).count_by_state() == {"done": 3}
        finally:
            await second.stop()


async def test_a_job_left_running_by_a_crash_runs_again_on_start(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_db(db_path) as db:
        repo = JobsRepo(db)
        job_id, created = await repo.add("ping", {"name": "interrupted"}, T0, T0)
        assert created
        claimed = await repo.claim_due(T0, 10)
        assert [j.id for j in claimed] == [job_id]
        assert (await repo.get(job_id)).state == "running"  # type: ignore[union-attr]
        # The process dies here, before the handler finished.

    async with open_db(db_path) as db:
        repo = JobsRepo(db)
        clock = RecordingClock(T0 + timedelta(minutes=1))
        sched = Scheduler(repo, clock)
        rec = Recorder(clock)
        sched.register("ping", rec)
        with caplog.at_level(logging.WARNING, logger="bot.scheduling.scheduler"):
            await sched.start()
        try:
            await asyncio.wait_for(rec.fired.wait(), SAFETY)
            await clock.until_waits(1)
            await sched.settled()  # the job is finished and its outcome written
            assert rec.calls == ["interrupted"]
            job = await repo.get(job_id)
            assert job is not None and job.state == "done"
            assert job.attempts == 2  # the interrupted attempt counted
            assert "1 job(s) were interrupted" in caplog.text
        finally:
            await sched.stop()


async def test_overdue_jobs_on_start_run_within_grace_else_are_missed(
    jobs: JobsRepo, caplog: pytest.LogCaptureFixture
) -> None:
    now = T0
    recent, _ = await jobs.add("ping", {"name": "recent"}, now - timedelta(minutes=5), now - timedelta(days=1))
    stale, _ = await jobs.add("ping", {"name": "stale"}, now - timedelta(hours=2), now - timedelta(days=1))
    patient, _ = await jobs.add("digest", {"name": "patient"}, now - timedelta(hours=2), now - timedelta(days=1))
    edge, _ = await jobs.add("ping", {"name": "edge"}, now - timedelta(minutes=10), now - timedelta(days=1))

    clock = ManualClock(now)
    sched = Scheduler(jobs, clock)
    rec = Recorder(clock)
    sched.register("ping", rec, grace=timedelta(minutes=10))
    sched.register("digest", rec, grace=timedelta(hours=3))
    with caplog.at_level(logging.WARNING, logger="bot.scheduling.scheduler"):
        await sched.start(gate=never_ready)
    try:
        missed = await jobs.get(stale)
        assert missed is not None and missed.state == "missed"
        assert missed.last_error is not None and "while the bot was down" in missed.last_error
        assert f"job {stale} (ping) missed" in caplog.text
        for job_id in (recent, patient, edge):
            assert (await jobs.get(job_id)).state == "pending"  # type: ignore[union-attr]

        assert await sched.run_due() == 3
        assert sorted(rec.calls) == ["edge", "patient", "recent"]
        assert await jobs.count_by_state() == {"done": 3, "missed": 1}
    finally:
        await sched.stop()


# -- failures and retries --------------------------------------------------------------------------------
async def test_a_raising_handler_is_retried_with_doubling_backoff_then_failed(
    scheduler: Scheduler, jobs: JobsRepo, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    async def failing(job: Job) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError(f"boom {calls}")

    backoff = timedelta(seconds=30)
    scheduler.register("flaky", failing, max_attempts=4, backoff=backoff)
    job_id = await scheduler.schedule("flaky", {}, T0)

    due = T0
    for attempt, factor in [(1, 1), (2, 2), (3, 4)]:
        clock.set(due)
        assert await scheduler.run_due() == 1
        job = await jobs.get(job_id)
        assert job is not None
        assert job.state == "pending"
        assert job.attempts == attempt
        assert job.last_error == f"RuntimeError: boom {attempt}"
        assert job.due_at == due + backoff * factor
        assert await scheduler.run_due() == 0  # not before its backoff
        due = job.due_at

    clock.set(due)
    with caplog.at_level(logging.ERROR, logger="bot.scheduling.scheduler"):
        assert await scheduler.run_due() == 1
    job = await jobs.get(job_id)
    assert job is not None
    assert job.state == "failed"
    assert job.attempts == 4
    assert job.last_error == "RuntimeError: boom 4"
    assert f"job {job_id} (flaky) failed after 4 attempts" in caplog.text

    assert await scheduler.advance_to(T0 + timedelta(days=1)) == 0
    assert calls == 4


async def test_backoff_is_capped(scheduler: Scheduler, jobs: JobsRepo) -> None:
    async def failing(job: Job) -> None:
        raise ValueError("nope")

    scheduler.register(
        "flaky", failing, max_attempts=10, backoff=timedelta(seconds=30), backoff_cap=timedelta(seconds=45)
    )
    job_id = await scheduler.schedule("flaky", {}, T0)
    dues = []
    for _ in range(3):
        await scheduler.advance_to((await jobs.get(job_id)).due_at)  # type: ignore[union-attr]
        dues.append((await jobs.get(job_id)).due_at)  # type: ignore[union-attr]
    assert [b - a for a, b in zip([T0, *dues], dues, strict=False)] == [
        timedelta(seconds=30),
        timedelta(seconds=45),
        timedelta(seconds=45),
    ]


async def test_retry_later_reschedules_without_using_up_attempts(
    scheduler: Scheduler, jobs: JobsRepo, clock: ManualClock
) -> None:
    outcomes: list[BaseException | None] = [
        RetryLater(timedelta(minutes=5), "missing Create Public Threads"),
        RetryLater(timedelta(minutes=5), "still missing"),
        RuntimeError("transient"),
        None,
    ]
    seen_attempts: list[int] = []

    async def handler(job: Job) -> None:
        seen_attempts.append(job.attempts)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    # Two ordinary failures would be fatal; the waits must not count as failures.
    scheduler.register("thread", handler, max_attempts=2, backoff=timedelta(seconds=10))
    job_id = await scheduler.schedule("thread", {}, T0)

    assert await scheduler.run_due() == 1
    job = await jobs.get(job_id)
    assert job is not None
    assert (job.state, job.attempts, job.due_at) == ("pending", 0, T0 + timedelta(minutes=5))
    assert job.last_error == "missing Create Public Threads"

    clock.set(T0 + timedelta(minutes=5))
    assert await scheduler.run_due() == 1
    job = await jobs.get(job_id)
    assert job is not None
    assert (job.state, job.attempts, job.due_at) == ("pending", 0, T0 + timedelta(minutes=10))
    assert job.last_error == "still missing"

    assert await scheduler.advance_to(T0 + timedelta(hours=1)) == 2
    job = await jobs.get(job_id)
    assert job is not None
    assert job.state == "done"
    assert seen_attempts == [1, 1, 1, 2]
    assert outcomes == []


async def test_unknown_kind_is_marked_failed(
    scheduler: Scheduler, recorder: Recorder, jobs: JobsRepo, caplog: pytest.LogCaptureFixture
) -> None:
    mystery = await scheduler.schedule("mystery", {"name": "?"}, T0)
    known = await scheduler.schedule("ping", {"name": "known"}, T0)
    with caplog.at_level(logging.ERROR, logger="bot.scheduling.scheduler"):
        assert await scheduler.run_due() == 2
    job = await jobs.get(mystery)
    assert job is not None and job.state == "failed"
    assert job.last_error == "no handler registered for 'mystery'"
    assert "no handler registered for kind 'mystery'" in caplog.text
    assert (await jobs.get(known)).state == "done"  # type: ignore[union-attr]
    assert recorder.calls == ["known"]


async def test_overdue_job_of_unknown_kind_is_failed_not_missed(jobs: JobsRepo) -> None:
    job_id, _ = await jobs.add("mystery", {}, T0 - timedelta(days=1), T0 - timedelta(days=2))
    sched = Scheduler(jobs, ManualClock(T0))
    await sched.start(gate=never_ready)
    try:
        assert (await jobs.get(job_id)).state == "pending"  # type: ignore[union-attr]
        assert await sched.run_due() == 1
        assert (await jobs.get(job_id)).state == "failed"  # type: ignore[union-attr]
    finally:
        await sched.stop()


# -- dedupe and cancel --------------------------------------------------------------------------------------
async def test_same_dedupe_key_while_live_returns_the_same_job(
    scheduler: Scheduler, recorder: Recorder, jobs: JobsRepo, clock: ManualClock
) -> None:
    first = await scheduler.schedule("ping", {"name": "one"}, T0 + timedelta(hours=1), dedupe_key="thread:1:6")
    again = await scheduler.schedule("ping", {"name": "two"}, T0 + timedelta(hours=2), dedupe_key="thread:1:6")
    other = await scheduler.schedule("ping", {"name": "other"}, T0 + timedelta(hours=1), dedupe_key="thread:1:7")

    assert again == first
    assert other != first
    job = await jobs.get(first)
    assert job is not None and job.payload == {"name": "one"} and job.due_at == T0 + timedelta(hours=1)
    assert await jobs.count_by_state() == {"pending": 2}

    # While it runs, it is still live.
    clock.set(T0 + timedelta(hours=1))
    claimed = await jobs.claim_due(clock.now(), 1)
    assert [j.id for j in claimed] == [first]
    assert (
        await scheduler.schedule("ping", {"name": "three"}, T0 + timedelta(hours=3), dedupe_key="thread:1:6") == first
    )

    # Once finished, the key is free again.
    await jobs.mark_done(first, clock.now())
    fresh = await scheduler.schedule("ping", {"name": "four"}, T0 + timedelta(hours=3), dedupe_key="thread:1:6")
    assert fresh not in (first, other)


async def test_cancel(scheduler: Scheduler, recorder: Recorder, jobs: JobsRepo) -> None:
    doomed = await scheduler.schedule("ping", {"name": "doomed"}, T0 + timedelta(hours=1), dedupe_key="party:9")
    kept = await scheduler.schedule("ping", {"name": "kept"}, T0 + timedelta(hours=1))

    assert await scheduler.cancel(doomed) is True
    assert await scheduler.cancel(doomed) is False  # already cancelled
    assert await scheduler.cancel(999_999) is False

    assert await scheduler.advance_to(T0 + timedelta(hours=2)) == 1
    assert recorder.calls == ["kept"]
    assert (await jobs.get(doomed)).state == "cancelled"  # type: ignore[union-attr]
    assert await scheduler.cancel(kept) is False  # done jobs cannot be cancelled
    assert (await jobs.get(kept)).state == "done"  # type: ignore[union-attr]

    # A cancelled job does not hold its dedupe key.
    replacement = await scheduler.schedule("ping", {"name": "new"}, T0 + timedelta(hours=3), dedupe_key="party:9")
    assert replacement != doomed


async def test_cancel_by_key(scheduler: Scheduler, recorder: Recorder, jobs: JobsRepo) -> None:
    job_id = await scheduler.schedule("ping", {"name": "r"}, T0 + timedelta(minutes=30), dedupe_key="reminder:1")
    assert await scheduler.cancel_key("reminder:2") is False
    assert await scheduler.cancel_key("reminder:1") is True
    assert await scheduler.advance_to(T0 + timedelta(hours=1)) == 0
    assert recorder.calls == []
    assert (await jobs.get(job_id)).state == "cancelled"  # type: ignore[union-attr]


# -- guard rails --------------------------------------------------------------------------------------------
def test_a_kind_registers_once(scheduler: Scheduler, recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="'ping'"):
        scheduler.register("ping", recorder)


async def test_advance_to_needs_a_manual_clock(jobs: JobsRepo) -> None:
    with pytest.raises(TypeError):
        await Scheduler(jobs, SystemClock()).advance_to(T0)


async def test_naive_times_are_refused(scheduler: Scheduler) -> None:
    with pytest.raises(ValueError, match="naive"):
        await scheduler.schedule("ping", {}, datetime(2026, 3, 1, 12, 0))
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 3, 1))


def test_manual_clock_does_not_go_backwards() -> None:
    clock = ManualClock(T0)
    clock.advance(timedelta(minutes=1))
    assert clock.now() == T0 + timedelta(minutes=1)
    with pytest.raises(ValueError):
        clock.set(T0)


def test_millisecond_round_trip() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert from_ms(to_ms(moment)) == moment


# -- the sliding window and batched writes ------------------------------------------------------------------
async def test_ensure_many_adds_moves_and_leaves_alone_in_one_call(scheduler: Scheduler, jobs: JobsRepo) -> None:
    same = await scheduler.schedule("ping", {"name": "same"}, T0 + timedelta(hours=1), dedupe_key="k:same")
    moved = await scheduler.schedule("ping", {"name": "moved"}, T0 + timedelta(hours=1), dedupe_key="k:moved")
    changed = await scheduler.ensure_many(
        "ping",
        [
            ({"name": "same"}, T0 + timedelta(hours=1), "k:same"),
            ({"name": "moved"}, T0 + timedelta(hours=2), "k:moved"),
            ({"name": "new"}, T0 + timedelta(hours=3), "k:new"),
        ],
    )
    assert changed == 2
    assert (await jobs.get(same)).due_at == T0 + timedelta(hours=1)  # type: ignore[union-attr]
    assert (await jobs.get(moved)).due_at == T0 + timedelta(hours=2)  # type: ignore[union-attr]
    new = await jobs.live_by_key("k:new")
    assert new is not None and new.payload == {"name": "new"} and new.due_at == T0 + timedelta(hours=3)
    assert await scheduler.ensure_many("ping", [({"name": "new"}, T0 + timedelta(hours=3), "k:new")]) == 0


async def test_a_slow_job_does_not_hold_back_the_jobs_after_it(jobs: JobsRepo, clock: ManualClock) -> None:
    """A sliding window: the slow job holds one slot; later jobs start (and finish) meanwhile, and the
    window never waits for the slowest of a batch."""
    sched = Scheduler(jobs, clock, batch_size=2, concurrency=4)
    release = asyncio.Event()
    fast_done = asyncio.Event()
    finished: list[str] = []

    async def handler(job: Job) -> None:
        if job.payload["name"] == "slow":
            await release.wait()
        finished.append(job.payload["name"])
        if len(finished) == 10:
            fast_done.set()

    sched.register("ping", handler)
    await sched.schedule("ping", {"name": "slow"}, T0)
    for i in range(10):
        await sched.schedule("ping", {"name": f"fast{i}"}, T0)
    run = asyncio.create_task(sched.run_due())
    try:
        await asyncio.wait_for(fast_done.wait(), SAFETY)
        assert finished == [f"fast{i}" for i in range(10)]  # all ten ran while "slow" held its slot
    finally:
        release.set()
    assert await asyncio.wait_for(run, SAFETY) == 11
    assert finished[-1] == "slow" and await jobs.count_by_state() == {"done": 11}


async def test_outcomes_are_written_in_batches(jobs: JobsRepo, clock: ManualClock) -> None:
    sched = Scheduler(jobs, clock)
    rec = Recorder(clock)
    sched.register("ping", rec)
    for i in range(50):
        await sched.schedule("ping", {"name": f"j{i}"}, T0)
    writes = 0
    finish = jobs.finish

    async def counting(now: datetime, outcomes: Any) -> None:
        nonlocal writes
        writes += 1
        await finish(now, outcomes)

    jobs.finish = counting  # type: ignore[method-assign]
    assert await sched.run_due() == 50
    assert await jobs.count_by_state() == {"done": 50}
    assert writes < 10  # not one write per job


async def test_stop_writes_what_finished_and_leaves_the_rest_to_the_next_start(
    jobs: JobsRepo, clock: ManualClock
) -> None:
    sched = Scheduler(jobs, clock)
    blocked = asyncio.Event()

    async def handler(job: Job) -> None:
        if job.payload["name"] == "stuck":
            blocked.set()
            await asyncio.Event().wait()  # never ends by itself

    sched.register("ping", handler)
    done_id = await sched.schedule("ping", {"name": "quick"}, T0)
    stuck_id = await sched.schedule("ping", {"name": "stuck"}, T0)
    await sched.start()
    await asyncio.wait_for(blocked.wait(), SAFETY)
    await sched.stop()
    assert (await jobs.get(done_id)).state == "done"  # type: ignore[union-attr]
    assert (await jobs.get(stuck_id)).state == "running"  # type: ignore[union-attr]  # released on the next start
