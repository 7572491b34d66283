"""The durable scheduler under 100,000 pending jobs, and 1,000 concurrent RSVP clicks.

(a) scheduler: a real SQLite file holds `--jobs` pending jobs whose due times are spread evenly over
    `--window` seconds, starting `--lead` seconds after the scheduler starts on the real system
    clock. A trivial handler records its lateness (firing time − due time). Reported: p50/p99/max
    lateness, throughput, peak RSS, database size; then the same jobs all due at once (how fast the
    scheduler drains a backlog). Baseline in the same run: a plain asyncio loop sleeping until each
    due time from an in-memory heap (no database), the same due times: the event loop's own lateness.
(b) rsvp: a watch party in the sandbox, then `--clicks` Going presses at once, each by a different
    member, gathered. Verified: every press answered, every RSVP in the table, the announcement
    counting them all. Reported: p50/p99 latency (sandbox sends INTERACTION_CREATE → the bot's
    callback arrives). Floor in the same run: the bare discord.py bot of bench/interactions.py
    answering the same number of concurrent /floor commands.

Not a test: nothing asserts on time (the correctness checks do exit non-zero).

    python bench/scheduler.py [--jobs 100000] [--window 20] [--clicks 1000] [--only scheduler|rsvp] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import importlib.util
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.sandbox.harness import Sandbox  # noqa: E402
from bot.sandbox.lines import CommandParser  # noqa: E402
from bot.sandbox.world import InteractionRecord  # noqa: E402
from bot.scheduling import Scheduler, SystemClock  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.storage.jobs import Job, JobsRepo  # noqa: E402

sys.path.insert(0, str(HERE))
from measure import percentile, reset_peak_rss, rss_mib  # noqa: E402

KIND = "bench.tick"
P99_TARGET_MS = 50.0
DISCORD_ANSWER_LIMIT_MS = 3000.0  # Discord drops an interaction not answered within 3 s


def _load_interactions_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_interactions", HERE / "interactions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peak_rss_mib() -> float:
    return rss_mib("VmHWM")


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3),
    }


# -- memory ---------------------------------------------------------------------------------------------
def files_size(folder: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(pattern))


# -- (a) the scheduler ----------------------------------------------------------------------------------------
def due_offsets_ms(jobs: int, window_s: float) -> list[int]:
    """Due times (ms after the start of the window), evenly spread, in a random insertion order."""
    offsets = [int(i * window_s * 1000 / jobs) for i in range(jobs)]
    random.Random(5).shuffle(offsets)
    return offsets


class Firing:
    """The handler: records lateness, signals when every job has fired."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.lateness_ms: list[float] = []
        self.first_at: float | None = None
        self.last_at = 0.0
        self.done = asyncio.Event()

    async def __call__(self, job: Job) -> None:
        now = time.time()
        self.lateness_ms.append(now * 1000 - job.due_at.timestamp() * 1000)
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        if len(self.lateness_ms) >= self.expected:
            self.done.set()


async def fill(db: Database, offsets: list[int]) -> None:
    """Insert the jobs due at epoch + offset; `anchor` moves them to the real window later."""
    async with db.transaction():
        await db.executemany(
            "INSERT INTO jobs (kind, payload, due_at, state, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, 0)",
            [(KIND, json.dumps({"i": i}), offset) for i, offset in enumerate(offsets)],
        )


async def anchor(db: Database, base_ms: int, *, burst: bool = False) -> None:
    async with db.transaction():
        if burst:  # every job due at base_ms
            await db.execute("UPDATE jobs SET state = 'pending', attempts = 0, due_at = ?", (base_ms,))
        else:
            await db.execute("UPDATE jobs SET due_at = due_at + ?", (base_ms,))


async def run_scheduler(db: Database, jobs: int, limit_s: float) -> tuple[Firing, float]:
    firing = Firing(jobs)
    scheduler = Scheduler(JobsRepo(db), SystemClock())
    scheduler.register(KIND, firing, grace=timedelta(hours=1))
    started = time.perf_counter()
    await scheduler.start()
    try:
        await asyncio.wait_for(firing.done.wait(), limit_s)
        await scheduler.run_due()  # waits for the batch in flight to be marked done (the run lock)
    except TimeoutError:
        raise SystemExit(f"only {len(firing.lateness_ms)} of {jobs} jobs fired within {limit_s:.0f} s") from None
    finally:
        await scheduler.stop()
    return firing, time.perf_counter() - started


async def scheduler_bench(jobs: int, window_s: float, lead_s: float) -> dict[str, Any]:
    offsets = due_offsets_ms(jobs, window_s)
    with tempfile.TemporaryDirectory(prefix="dramawatch-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        db = await Database.open(path)
        try:
            await db.migrate()
            t = time.perf_counter()
            await fill(db, offsets)
            insert_s = time.perf_counter() - t
            gc.collect()
            rss_before = rss_mib()
            peak_reset = reset_peak_rss()

            await anchor(db, int((time.time() + lead_s) * 1000))
            spread, _ = await run_scheduler(db, jobs, lead_s + window_s + 120)
            counts = await JobsRepo(db).count_by_state()
            if counts != {"done": jobs}:
                raise SystemExit(f"after the run the jobs are {counts}, not all {jobs} done")
            peak = peak_rss_mib() if peak_reset else None
            db_bytes = files_size(Path(tmp), "bench.db*")
            assert spread.first_at is not None
            fired_over_s = spread.last_at - spread.first_at

            # The same jobs, all due at once: how fast a backlog drains.
            await anchor(db, int(time.time() * 1000), burst=True)
            burst, burst_s = await run_scheduler(db, jobs, 600)
        finally:
            await db.close()

    # Baseline: a plain asyncio loop and an in-memory heap, the same due times.
    heap = [(offset, i) for i, offset in enumerate(offsets)]
    heapq.heapify(heap)
    base_ms = (time.time() + lead_s) * 1000
    baseline: list[float] = []
    while heap:
        due = base_ms + heap[0][0]
        delay = (due - time.time() * 1000) / 1000
        if delay > 0:
            await asyncio.sleep(delay)
        now_ms = time.time() * 1000
        while heap and base_ms + heap[0][0] <= now_ms:
            offset, _ = heapq.heappop(heap)
            baseline.append(now_ms - (base_ms + offset))

    lateness = summary(spread.lateness_ms)
    floor = summary(baseline)
    return {
        "jobs": jobs,
        "window_s": window_s,
        "insert_s": round(insert_s, 2),
        "lateness": lateness,
        "baseline_lateness": floor,
        "ratio_p50_to_baseline": round(lateness["p50_ms"] / max(floor["p50_ms"], 0.001), 1),
        "ratio_p99_to_baseline": round(lateness["p99_ms"] / max(floor["p99_ms"], 0.001), 1),
        "throughput_jobs_per_s": round(jobs / fired_over_s, 0),
        "due_rate_jobs_per_s": round(jobs / window_s, 0),
        "burst_drain_s": round(burst_s, 2),
        "burst_jobs_per_s": round(jobs / burst_s, 0),
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak,
        "db_mib": round(db_bytes / 2**20, 1),
        "p99_target_ms": P99_TARGET_MS,
        "p99_target_met": lateness["p99_ms"] <= P99_TARGET_MS,
    }


# -- (b) concurrent RSVP clicks ---------------------------------------------------------------------------------
def add_members(sandbox: Sandbox, count: int) -> list[int]:
    world = sandbox.world
    return [world._add_member(world._user(1300000000000000000 + i, f"fan{i}"), []) for i in range(count)]


async def as_user(sandbox: Sandbox, user_id: int, type_: int, data: dict[str, Any], message: Any = None) -> Any:
    sandbox.user_id = user_id  # read by interact() before its first await: safe with many at once
    return await sandbox.interact(type_, data, message=message)


def latencies(records: list[InteractionRecord]) -> list[float]:
    missing = [r for r in records if r.answered_at is None]
    if missing:
        raise SystemExit(f"{len(missing)} of {len(records)} interactions were never answered")
    return [(r.answered_at - r.sent_at) * 1000 for r in records]  # type: ignore[operator]


async def rsvp_round(clicks: int, tmp: Path, round_: int) -> list[float]:
    async with Sandbox(db_path=tmp / f"rsvp{round_}.db", now=datetime(2026, 11, 27, tzinfo=UTC)) as sandbox:
        for line in (
            ":as mod",
            "/settings channel kind:announcements channel:#general",
            '/watchparty schedule drama:queen-of-tears episodes:1-2 start:"2026-11-28 20:00" timezone:Asia/Seoul',
        ):
            result = await sandbox.run_line(line)
            if result["error"]:
                raise SystemExit(f"{line!r} failed: {result['error']}")
        general = sandbox.world.channel_by_name("general")
        assert general is not None
        (announcement,) = sandbox.world.messages[int(general["id"])]
        users = add_members(sandbox, clicks)
        gc.collect()
        data = {"custom_id": "dw:rsvp:1:going", "component_type": 2}
        records = await asyncio.gather(*(as_user(sandbox, u, 3, data, announcement) for u in users))
        samples = latencies(records)
        rows = await sandbox.bot.db.fetchall("SELECT user_id FROM rsvps WHERE party_id = 1 AND status = 'going'")
        if sorted(r["user_id"] for r in rows) != sorted(users):
            raise SystemExit(f"{clicks - len(rows)} RSVP(s) lost: {len(rows)} of {clicks} in the table")
        rsvp = next(f["value"] for f in announcement["embeds"][0]["fields"] if f["name"] == "RSVP")
        if not rsvp.startswith(f"Going: {clicks} "):
            raise SystemExit(f"the announcement says {rsvp!r} after {clicks} presses")
        if sandbox.errors or sandbox.violations:
            raise SystemExit(f"errors: {sandbox.errors[:3]} violations: {sandbox.violations[:3]}")
        return samples


async def floor_round(clicks: int, tmp: Path, round_: int) -> list[float]:
    bare_bot = _load_interactions_bench().bare_bot
    async with Sandbox(db_path=tmp / f"floor{round_}.db", bot_factory=bare_bot) as sandbox:
        users = add_members(sandbox, clicks)
        data = CommandParser(sandbox.world, sandbox.user_id).parse("/floor").data
        gc.collect()
        records = await asyncio.gather(*(as_user(sandbox, u, 2, data) for u in users))
        return latencies(records)


async def rsvp_bench(clicks: int, rounds: int) -> dict[str, Any]:
    real: list[float] = []
    floor: list[float] = []
    walls: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dramawatch-bench-") as tmp:
        for round_ in range(rounds):
            floor += await floor_round(clicks, Path(tmp), round_)
            t = time.perf_counter()
            real += await rsvp_round(clicks, Path(tmp), round_)
            walls.append(time.perf_counter() - t)
    rsvp = summary(real)
    bare = summary(floor)
    return {
        "clicks": clicks,
        "rounds": rounds,
        "recorded": "all",
        "rsvp_latency": rsvp,
        "floor_latency": bare,
        "ratio_p50_to_floor": round(rsvp["p50_ms"] / bare["p50_ms"], 2),
        "ratio_p99_to_floor": round(rsvp["p99_ms"] / bare["p99_ms"], 2),
        "answered_within_3s": round(sum(v <= DISCORD_ANSWER_LIMIT_MS for v in real) / len(real), 3),
        "floor_answered_within_3s": round(sum(v <= DISCORD_ANSWER_LIMIT_MS for v in floor) / len(floor), 3),
        "round_wall_s": [round(w, 2) for w in walls],
    }


# -- output ---------------------------------------------------------------------------------------------------
def print_report(report: dict[str, Any]) -> None:
    if "scheduler" in report:
        s = report["scheduler"]
        la, fl = s["lateness"], s["baseline_lateness"]
        print(f"(a) scheduler: {s['jobs']:,} pending jobs due over {s['window_s']:g} s, real SQLite, SystemClock")
        print(f"    {'':<26} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
        print(f"    {'lateness (scheduler)':<26} {la['p50_ms']:>9.2f} {la['p99_ms']:>9.2f} {la['max_ms']:>9.2f}")
        print(f"    {'lateness (asyncio heap)':<26} {fl['p50_ms']:>9.2f} {fl['p99_ms']:>9.2f} {fl['max_ms']:>9.2f}")
        print(f"    ratio to baseline: p50 ×{s['ratio_p50_to_baseline']}, p99 ×{s['ratio_p99_to_baseline']}")
        print(
            f"    throughput {s['throughput_jobs_per_s']:,.0f} jobs/s (due at {s['due_rate_jobs_per_s']:,.0f}/s); "
            f"backlog of {s['jobs']:,} drained in {s['burst_drain_s']} s ({s['burst_jobs_per_s']:,.0f} jobs/s)"
        )
        print(
            f"    RSS {s['rss_before_mib']} MiB before, peak {s['peak_rss_mib']} MiB during; "
            f"database {s['db_mib']} MiB; insert {s['insert_s']} s"
        )
        print(f"    p99 target ≤ {s['p99_target_ms']:g} ms: {'met' if s['p99_target_met'] else 'NOT met'}")
    if "rsvp" in report:
        r = report["rsvp"]
        la, fl = r["rsvp_latency"], r["floor_latency"]
        print(f"(b) {r['clicks']:,} concurrent RSVP presses through the sandbox ×{r['rounds']}: all recorded")
        print(f"    {'':<26} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'≤ 3 s':>7}")
        print(
            f"    {'RSVP Going':<26} {la['p50_ms']:>9.1f} {la['p99_ms']:>9.1f} {la['max_ms']:>9.1f} "
            f"{r['answered_within_3s']:>7.1%}"
        )
        print(
            f"    {'floor (bare /floor)':<26} {fl['p50_ms']:>9.1f} {fl['p99_ms']:>9.1f} {fl['max_ms']:>9.1f} "
            f"{r['floor_answered_within_3s']:>7.1%}"
        )
        print(f"    ratio to floor: p50 ×{r['ratio_p50_to_floor']}, p99 ×{r['ratio_p99_to_floor']}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    logging.basicConfig(level=logging.ERROR)
    report: dict[str, Any] = {}
    if args.only in (None, "scheduler"):
        report["scheduler"] = await scheduler_bench(args.jobs, args.window, args.lead)
    if args.only in (None, "rsvp"):
        report["rsvp"] = await rsvp_bench(args.clicks, args.rounds)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000, help="pending jobs for (a)")
    parser.add_argument("--window", type=float, default=30.0, help="seconds over which the jobs fall due")
    parser.add_argument("--lead", type=float, default=2.0, help="seconds from the start to the first due job")
    parser.add_argument("--clicks", type=int, default=1000, help="concurrent RSVP presses for (b)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of (b), floor and real alternating")
    parser.add_argument("--only", choices=("scheduler", "rsvp"), help="run one part")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
