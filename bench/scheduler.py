"""The durable scheduler: 100,000 jobs falling due over 30 s, 1 % of handlers slow (2 s).

The path the running bot takes: `Scheduler(JobsRepo(db), SystemClock())` exactly as `Dramawatch`
builds it (default window and batch), over a copy of the 10,000-server state (bench/state.py: its own
100,000 pending jobs are in the table, due later), plus `--jobs` bench jobs whose due times are
spread evenly over `--window` seconds from `--lead` seconds after the start. The handler records its
lateness (start − due time); one job in a hundred (chosen at random) then sleeps `--slow` seconds, as
a feed answering slowly would. Every job must fire exactly once and end `done` in the table (the
state's own jobs untouched): otherwise the bench exits non-zero. Then the same jobs are all made due
at once, to see how fast a backlog drains.

Floor, in the same run: a plain asyncio loop that sleeps until each due time from an in-memory heap
and starts each handler as a task (same 1 % slow): the event loop's own lateness, with no database.

    python bench/scheduler.py [--jobs 100000] [--window 30] [--slow 2]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import json
import logging
import random
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import Checker, finish, log, summary, table  # noqa: E402
from measure import reset_peak_rss, rss_mib  # noqa: E402
from state import shift_jobs, shipped_dramas, state_copy  # noqa: E402

from bot.scheduling import Scheduler, SystemClock  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.storage.jobs import Job, JobsRepo  # noqa: E402

KIND = "bench.tick"


def files_mb(folder: Path, pattern: str) -> float:
    return round(sum(p.stat().st_size for p in folder.glob(pattern)) / 1e6, 1)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Firing:
    """The handler: lateness of each start, exactly-once bookkeeping, 1 % slow."""

    def __init__(self, expected: int, slow: set[int], slow_s: float, checker: Checker) -> None:
        self.checker = checker
        self.expected = expected
        self.slow = slow
        self.slow_s = slow_s
        self.lateness_ms: list[float] = []
        self.seen: set[int] = set()
        self.duplicates = 0
        self.first_at = 0.0
        self.last_at = 0.0
        self.done = asyncio.Event()

    async def __call__(self, job: Job) -> None:
        now = time.time()
        self.lateness_ms.append(now * 1000 - job.due_at.timestamp() * 1000)
        i = job.payload["i"]
        if not self.checker.check(i not in self.seen and 0 <= i < self.expected, f"job {i} fired twice"):
            self.duplicates += 1
        self.seen.add(i)
        self.first_at = self.first_at or now
        self.last_at = now
        if len(self.seen) >= self.expected:
            self.done.set()
        if i in self.slow:
            await asyncio.sleep(self.slow_s)


async def fill(db: Database, offsets: list[int]) -> None:
    async with db.transaction():
        await db.executemany(
            "INSERT INTO jobs (kind, payload, due_at, state, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, 0)",
            [(KIND, json.dumps({"i": i}), offset) for i, offset in enumerate(offsets)],
        )


async def run_once(db: Database, firing: Firing, limit_s: float) -> float:
    scheduler = Scheduler(JobsRepo(db), SystemClock())  # as Dramawatch.setup_hook builds it
    scheduler.register(KIND, firing, grace=timedelta(hours=1))
    started = time.perf_counter()
    await scheduler.start()
    try:
        await asyncio.wait_for(firing.done.wait(), limit_s)
        await scheduler.settled()  # the slow ones finish, every outcome is written
    except TimeoutError:
        raise SystemExit(f"only {len(firing.seen)} of {firing.expected} jobs fired within {limit_s:.0f} s") from None
    finally:
        await scheduler.stop()
    return time.perf_counter() - started


async def floor_run(offsets: list[int], slow: set[int], slow_s: float, lead_s: float) -> list[float]:
    heap = [(offset, i) for i, offset in enumerate(offsets)]
    heapq.heapify(heap)
    base_ms = (time.time() + lead_s) * 1000
    lateness: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    async def handler(i: int, due_ms: float) -> None:
        lateness.append(time.time() * 1000 - due_ms)
        if i in slow:
            await asyncio.sleep(slow_s)

    while heap:
        delay = (base_ms + heap[0][0] - time.time() * 1000) / 1000
        if delay > 0:
            await asyncio.sleep(delay)
        now_ms = time.time() * 1000
        while heap and base_ms + heap[0][0] <= now_ms:
            offset, i = heapq.heappop(heap)
            task = asyncio.create_task(handler(i, base_ms + offset))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return lateness


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    checker = Checker()
    rng = random.Random(5)
    offsets = [int(i * args.window * 1000 / args.jobs) for i in range(args.jobs)]
    rng.shuffle(offsets)
    slow = set(rng.sample(range(args.jobs), args.jobs // 100))
    with tempfile.TemporaryDirectory(prefix="dramawatch-bench-") as tmp:
        path = Path(tmp) / "state.db"
        log("scheduler: copying the 10,000-server state")
        manifest = await state_copy(path, shipped_dramas())
        await shift_jobs(path, int(time.time() * 1000))
        db = await Database.open(path)
        try:
            await db.migrate()
            state_jobs = (await JobsRepo(db).count_by_state()).get("pending", 0)
            await fill(db, offsets)
            gc.collect()
            rss_before = rss_mib()
            reset_peak_rss()
            base = int((time.time() + args.lead) * 1000)
            async with db.transaction():
                await db.execute("UPDATE jobs SET due_at = due_at + ? WHERE kind = ?", (base, KIND))
            log(f"scheduler: {args.jobs:,} jobs due over {args.window:g} s (+{state_jobs:,} pending state jobs)")
            firing = Firing(args.jobs, slow, args.slow, checker)
            cpu = cpu_s()
            wall = await run_once(db, firing, args.lead + args.window + 120)
            cpu = cpu_s() - cpu
            peak = rss_mib("VmHWM")
            rows = await db.fetchall("SELECT state, COUNT(*) AS n FROM jobs WHERE kind = ? GROUP BY state", (KIND,))
            counts = {r["state"]: r["n"] for r in rows}
            checker.check(counts == {"done": args.jobs}, f"bench jobs after the run: {counts}")
            checker.check(firing.duplicates == 0, f"{firing.duplicates} job(s) fired twice")
            checker.check(len(firing.seen) == args.jobs, f"{len(firing.seen)} of {args.jobs} fired")
            others = await db.fetchall("SELECT state, COUNT(*) AS n FROM jobs WHERE kind != ? GROUP BY state", (KIND,))
            checker.check(
                {r["state"]: r["n"] for r in others} == {"pending": state_jobs}, f"state jobs changed: {others}"
            )
            fired_over = firing.last_at - firing.first_at

            log("scheduler: the same jobs, all due at once (backlog drain)")
            async with db.transaction():
                await db.execute(
                    "UPDATE jobs SET state = 'pending', attempts = 0, due_at = ? WHERE kind = ?",
                    (int(time.time() * 1000), KIND),
                )
            drain = Firing(args.jobs, slow, args.slow, checker)
            drain_s = await run_once(db, drain, 600)
            checker.check(drain.duplicates == 0 and len(drain.seen) == args.jobs, "backlog: not exactly once")
            size_mb = await asyncio.to_thread(files_mb, Path(tmp), "state.db*")
        finally:
            await db.close()
    log("scheduler: floor (asyncio heap, no database)")
    floor = await floor_run(offsets, slow, args.slow, args.lead)
    ours = summary(firing.lateness_ms)
    bare = summary(floor)
    figures: dict[str, Any] = {
        "jobs": args.jobs,
        "window_s": args.window,
        "due_per_s": round(args.jobs / args.window),
        "slow_handlers": len(slow),
        "slow_s": args.slow,
        "state_pending_jobs": state_jobs,
        "servers": manifest["servers"],
        "lateness_p50_ms": ours["median"],
        "lateness_p99_ms": ours["p99"],
        "lateness_max_ms": ours["max"],
        "floor_lateness_p50_ms": bare["median"],
        "floor_lateness_p99_ms": bare["p99"],
        "floor_lateness_max_ms": bare["max"],
        "p99_over_floor_ms": round(ours["p99"] - bare["p99"], 2),
        "fired_per_s": round(args.jobs / max(fired_over, 0.001)),
        "cpu_us_per_job": round(cpu * 1e6 / args.jobs, 1),
        "wall_s": round(wall, 2),
        "backlog_drain_s": round(drain_s, 2),
        "backlog_jobs_per_s": round(args.jobs / drain_s),
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak,
        "database_mb": size_mb,
    }
    targets = {"lateness_p99_ms": {"max": 50.0}}
    met = figures["lateness_p99_ms"] <= 50.0
    notes = [
        f"{args.jobs:,} jobs fired at {figures['fired_per_s']:,}/s (due at {figures['due_per_s']:,}/s) with "
        f"{len(slow):,} handlers sleeping {args.slow:g} s each: lateness p99 {ours['p99']} ms against the "
        f"asyncio floor's {bare['p99']} ms — the target (≤ 50 ms) is {'met' if met else 'MISSED'}.",
        f"CPU {figures['cpu_us_per_job']} µs per job (claims in batches with one UPDATE … RETURNING, outcomes "
        "written together in one transaction per group of finished jobs).",
        f"A backlog of {args.jobs:,} due at once drains in {figures['backlog_drain_s']} s "
        f"({figures['backlog_jobs_per_s']:,} jobs/s); the slow handlers hold their slots meanwhile and delay "
        "nothing else (a sliding window of 1,024, at most half for one kind).",
    ]
    if not met:
        notes.append(
            "Why missed: the scheduler could not keep up with the due rate on this machine in this run "
            "(see fired_per_s against due_per_s and the load average), so the queue and its lateness grew."
        )
    finish(
        "scheduler",
        figures=figures,
        targets=targets,
        checker=checker,
        title="Scheduler: 100,000 jobs over 30 s, 1 % of handlers slow",
        how=__doc__.split("\n\n    python")[0],
        notes=notes,
        tables=[
            table(
                "Lateness (firing time − due time), ms",
                ["who", "p50", "p99", "max"],
                [
                    ["scheduler (SQLite, state of 10,000 servers)", ours["median"], ours["p99"], ours["max"]],
                    ["floor (asyncio heap, no database)", bare["median"], bare["p99"], bare["max"]],
                ],
            )
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=30.0, help="seconds over which the jobs fall due")
    parser.add_argument("--lead", type=float, default=2.0, help="seconds from the start to the first due job")
    parser.add_argument("--slow", type=float, default=2.0, help="seconds a slow handler takes (1 in 100)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
