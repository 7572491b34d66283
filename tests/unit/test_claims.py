"""Several processes sharing one job queue (run on SQLite and PostgreSQL): claims under a name and a
lease, renewed while the job runs; a job whose lease ran out is released for another process; a
process finishes only its own claims; a sharded process claims only its servers' jobs; and a name
already used by a live process is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.scheduling import ManualClock, Scheduler
from bot.scheduling.presence import NameInUse, Presence, plan
from bot.storage import Database
from bot.storage.jobs import Job, JobsRepo, Outcome
from bot.storage.processes import ProcessesRepo, ProcessRow
from tests.backends import Target

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
# Servers on shard 0 and shard 1 of 2: a server's shard is (id >> 22) % 2.
ON_0, ON_1 = 0 << 22, 1 << 22


def repo(db: Database, name: str, shard_count: int = 1) -> JobsRepo:
    return JobsRepo(db, name=name, lease=LEASE, shard_count=shard_count)


async def test_a_claim_holds_while_renewed_and_is_released_after_its_lease(db: Database) -> None:
    a, b = repo(db, "a"), repo(db, "b")
    job_id, _ = await a.add("ping", {}, T0, T0)
    assert [j.id for j in await a.claim_due(T0, 10)] == [job_id]
    assert await b.claim_due(T0, 10) == []  # claimed: nobody else gets it

    # a renews within the lease: b releases nothing.
    await a.renew(T0 + timedelta(seconds=20))
    assert await b.release_expired(T0 + timedelta(seconds=45)) == 0
    # a stops renewing (it died): after the lease, b releases it and claims it, attempt 2.
    assert await b.release_expired(T0 + timedelta(seconds=51)) == 1
    taken = await b.claim_due(T0 + timedelta(seconds=51), 10)
    assert [(j.id, j.attempts) for j in taken] == [(job_id, 2)]
    # A process never releases its own claims this way (it is alive: it is the one asking).
    assert await b.release_expired(T0 + timedelta(hours=1)) == 0


async def test_only_the_claim_holder_finishes_a_job(db: Database) -> None:
    a, b = repo(db, "a"), repo(db, "b")
    job_id, _ = await a.add("ping", {}, T0, T0)
    await a.claim_due(T0, 10)
    later = T0 + timedelta(minutes=5)
    await b.release_expired(later)
    await b.claim_due(later, 10)
    # a wakes from its freeze and reports the job done: not its claim any more, so nothing changes.
    await a.finish(later, [Outcome(job_id, "done")])
    job = await b.get(job_id)
    assert job is not None and job.state == "running"
    await b.finish(later, [Outcome(job_id, "done")])
    job = await b.get(job_id)
    assert job is not None and job.state == "done"


async def test_a_restarted_process_takes_back_its_own_claims_at_once(db: Database) -> None:
    before = repo(db, "shards-0")
    job_id, _ = await before.add("ping", {}, T0, T0)
    await before.claim_due(T0, 10)
    again = repo(db, "shards-0")  # the same process, started again (no lease to wait for)
    assert await again.release_running(T0 + timedelta(seconds=1)) == 1
    assert [j.id for j in await again.claim_due(T0 + timedelta(seconds=1), 10)] == [job_id]
    assert await repo(db, "other").release_running(T0) == 0  # others' claims are not its own


async def test_a_sharded_process_claims_only_its_servers_jobs_and_jobs_of_no_server(db: Database) -> None:
    zero, one = repo(db, "shards-0", 2), repo(db, "shards-1", 2)
    mine, _ = await zero.add("ping", {"guild_id": ON_0}, T0, T0)
    theirs, _ = await zero.add("ping", {"guild_id": ON_1}, T0, T0)
    anyone, _ = await zero.add("ping", {}, T0 + timedelta(seconds=1), T0)
    assert await zero.next_due(shards=[0]) == T0
    got = await zero.claim_due(T0 + timedelta(seconds=1), 10, shards=[0])
    assert sorted(j.id for j in got) == sorted([mine, anyone])
    assert [j.id for j in await one.claim_due(T0 + timedelta(seconds=1), 10, shards=[1])] == [theirs]
    assert await one.next_due(shards=[1]) is None


async def test_ensure_many_records_each_jobs_server(db: Database) -> None:
    jobs = repo(db, "main", 2)
    await jobs.ensure_many("feed.poll", [({"feed_id": 1, "guild_id": ON_1}, T0, "feed:1")], T0)
    assert await jobs.next_due(shards=[0]) is None
    assert await jobs.next_due(shards=[1]) == T0


async def test_two_schedulers_over_one_queue_run_each_job_once(db_target: Target, db: Database) -> None:
    other_db = await db_target.open()
    try:
        clock = ManualClock(T0)
        ran: list[tuple[str, int]] = []

        def handler(name: str) -> Callable[[Job], Awaitable[None]]:
            async def run(job: Job) -> None:
                await asyncio.sleep(0)
                ran.append((name, job.id))

            return run

        first = Scheduler(repo(db, "a"), clock, batch_size=7)
        second = Scheduler(repo(other_db, "b"), clock, batch_size=7)
        first.register("ping", handler("a"))
        second.register("ping", handler("b"))
        for i in range(60):
            await repo(db, "setup").add("ping", {"i": i}, T0 - timedelta(seconds=i), T0)
        await asyncio.gather(first.run_due(), second.run_due())
        ids = [job_id for _, job_id in ran]
        assert len(ids) == 60 and len(set(ids)) == 60
        assert {name for name, _ in ran} <= {"a", "b"}
        assert (await repo(db, "x").count_by_state()) == {"done": 60}
    finally:
        await other_db.close()


async def test_a_live_process_name_is_refused_and_a_stopped_one_is_not(db: Database) -> None:
    clock = ManualClock(T0)
    first = Presence(repo(db, "shards-0"), ProcessesRepo(db), clock, shard_ids=(0,))
    await first.start()
    try:
        rows = await ProcessesRepo(db).all()
        assert [(r.name, r.shard_ids, r.stopped_at) for r in rows] == [("shards-0", (0,), None)]
        # Same name, same pid (this test) is the same process starting again: allowed. A live
        # process elsewhere under the name is refused.
        await ProcessesRepo(db).register("shards-0", "elsewhere", 999_999, (0,), 2, datetime.now(UTC))
        with pytest.raises(NameInUse, match="another process named 'shards-0' is running"):
            await Presence(repo(db, "shards-0"), ProcessesRepo(db), clock).start()
    finally:
        await first.stop()
    row = await ProcessesRepo(db).get("shards-0")
    assert row is not None and row.stopped_at is not None
    second = Presence(repo(db, "shards-0"), ProcessesRepo(db), clock)
    await second.start()  # the old one stopped cleanly
    await second.stop()


async def test_a_tick_renews_this_processs_leases_and_records_its_heartbeat(db: Database) -> None:
    clock = ManualClock(T0)
    jobs = repo(db, "a")
    job_id, _ = await jobs.add("ping", {}, T0, T0)
    await jobs.claim_due(T0, 10)
    presence = Presence(jobs, ProcessesRepo(db), clock, latency=lambda: 0.042, running=lambda: 1)
    await presence.start()
    try:
        clock.advance(timedelta(seconds=25))
        await presence.tick()
        # Renewed at T0+25 s: still held at T0+50 s (the first lease would have ended at T0+30 s).
        assert await repo(db, "b").release_expired(T0 + timedelta(seconds=50)) == 0
        assert await repo(db, "b").release_expired(T0 + timedelta(seconds=56)) == 1
        row = await ProcessesRepo(db).get("a")
        assert row is not None and (row.latency_ms, row.running) == (42, 1)
    finally:
        await presence.stop()
    assert job_id


# -- shards follow the processes (bot.scheduling.presence.plan) -------------------------------------
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(hours=1)


def row(
    name: str,
    held: tuple[int, ...],
    *,
    configured: tuple[int, ...] | None = None,
    silent: float = 1.0,
    stopped: bool = False,
) -> ProcessRow:
    beat = NOW - timedelta(seconds=silent)
    return ProcessRow(
        name=name,
        host="h",
        pid=1,
        shard_ids=held,
        configured=held if configured is None else configured,
        shard_count=2,
        started_at=LONG_AGO,
        heartbeat_at=beat,
        latency_ms=None,
        running=0,
        stopped_at=beat if stopped else None,
    )


def plan_for(me: ProcessRow, *others: ProcessRow, since: datetime = LONG_AGO) -> tuple[int, ...]:
    return plan(me.name, me.configured, me.shard_ids, 2, [me, *others], NOW, LEASE, since)


def test_shards_stay_put_while_every_process_is_live() -> None:
    assert plan_for(row("a", (0,)), row("b", (1,))) == (0,)
    assert plan_for(row("b", (1,)), row("a", (0,))) == (1,)


def test_a_dead_processs_shards_go_to_the_first_live_name_after_the_lease() -> None:
    dead = row("b", (1,), silent=31)
    assert plan_for(row("a", (0,)), dead) == (0, 1)
    assert plan_for(row("a", (0,)), row("b", (1,), silent=29)) == (0,)  # not dead long enough
    assert plan_for(row("c", (2,)), row("a", (0,)), dead) == (2,)  # "a" is live and first: it takes them
    assert plan_for(row("a", (0,)), row("b", (1,), silent=31, stopped=True)) == (0, 1)  # stopped for good


def test_taken_shards_go_back_when_their_process_is_back() -> None:
    waiting = row("b", (), configured=(1,))  # back, waiting for its shard
    assert plan_for(row("a", (0, 1), configured=(0,)), waiting) == (0,)
    # a shard a live process is started for is never taken over, even while it waits
    assert plan_for(row("a", (0,)), waiting) == (0,)


def test_a_shard_nobody_ever_ran_is_taken_only_a_lease_after_this_process_started() -> None:
    alone = row("a", (0,))
    assert plan_for(alone, since=NOW - timedelta(seconds=10)) == (0,)
    assert plan_for(alone, since=NOW - timedelta(seconds=40)) == (0, 1)


def test_a_shard_two_live_processes_hold_stays_with_the_first_name() -> None:
    # After a race (both took shard 1 over), the later name gives it up; neither was started for it.
    assert plan_for(row("b", (0, 1), configured=(0,)), row("a", (2, 1), configured=(2,))) == (0,)
    assert plan_for(row("a", (2, 1), configured=(2,)), row("b", (0, 1), configured=(0,))) == (1, 2)


async def test_two_processes_adding_one_live_key_at_once_get_one_job(db_target: Target, db: Database) -> None:
    other = await db_target.open()
    try:
        results = await asyncio.gather(
            *(repo(d, n).add("ping", {}, T0, T0, "only-one") for d, n in ((db, "a"), (other, "b")) for _ in range(3))
        )
        assert len({job_id for job_id, _ in results}) == 1
        assert sum(created for _, created in results) == 1
    finally:
        await other.close()


async def test_a_process_on_another_host_with_the_same_pid_is_another_process(db: Database) -> None:
    import os

    await ProcessesRepo(db).register("main", "another-host", os.getpid(), (), 1, datetime.now(UTC))
    with pytest.raises(NameInUse):
        await Presence(repo(db, "main"), ProcessesRepo(db), ManualClock(T0)).start()
