"""Recap feeds: one poll cycle of 1,000 feeds on a loopback feed server, the real product against a floor.

The feed server runs in a child process (this script with --serve), so its work is neither on the
bot's event loop nor in the bot's CPU figures, as with real, remote feeds. Each feed has 20 items
(~12 KB of RSS). Of every ten feeds: four have new items this cycle (one recap that matches an
episode, one item that does not), four are unchanged (answered 304 to the conditional GET), one is
slow (answers after --slow seconds, unchanged) and one fails (HTTP 500).

product  the real bot in the in-process sandbox (bot.sandbox.harness.Sandbox, a real SQLite file):
         all 1,000 feeds polled at once through `Feeds.poll` (asyncio.gather), as concurrent jobs
         would be; the real Fetcher (its semaphore bounds concurrent fetches), feedparser in worker
         threads, title matching, SQLite, and posting every matched item to the sandbox's #recaps.
floor    the same 1,000 GETs, with the same conditional headers and the same concurrency, through a
         plain aiohttp session: no parsing, no database, no posting.

Measured per cycle: wall time, CPU time per feed (getrusage, all threads; the product's figure
includes the in-process loopback Discord answering the posts), peak RSS during the cycle. Every
cycle is checked: the outcomes (new / not modified / failed), one post per feed with new items.
--scheduler also runs one cycle through the real scheduler (`Scheduler.run_due` with all 1,000
POLL jobs due), which today runs jobs one after another.

Not a test: nothing asserts on time (the correctness checks do exit non-zero).

    python bench/feeds.py [--feeds 1000] [--rounds 3] [--concurrency 16 ...] [--slow 2] [--scheduler] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent.parent))

from bot.feeds.fetch import ACCEPT, TIMEOUT, USER_AGENT, Fetcher  # noqa: E402
from bot.feeds.service import POLL  # noqa: E402
from bot.sandbox.harness import Sandbox  # noqa: E402
from tests.e2e.feedserver import FeedServer  # noqa: E402

sys.path.insert(0, str(HERE))
from measure import reset_peak_rss, rss_mib  # noqa: E402

TARGET_S = 10.0
DEFAULT_CONCURRENCY = 32  # Fetcher's default (bot/feeds/fetch.py)
ITEMS_PER_FEED = 20
KINDS = ("new", "new", "new", "new", "same", "same", "same", "same", "slow", "fail")  # by feed number % 10
SUMMARY = (
    "<p>Hong Hae-in and Baek Hyun-woo face the <b>board meeting</b> at Queens Group while Yoon Eun-sung "
    "moves against the family. <i>Spoilers ahead</i>: the divorce papers, the hospital, and the letter "
    "nobody was supposed to read.</p><p>Our recap of this week's episode, with screenshots and the "
    "best lines.</p><script>trackRecap()</script>"
)


def kind_of(name: str) -> str:
    return KINDS[int(name[1:]) % len(KINDS)]


# -- the feed server (child process) ---------------------------------------------------------------------------
class BenchFeedServer(FeedServer):
    """The tests' loopback RSS server plus per-kind behaviour and two control routes."""

    def __init__(self, feeds: int, slow: float) -> None:
        super().__init__()
        self.slow = slow
        self.misbehave = False
        self.counter = 0
        self.names = [f"f{i:04d}" for i in range(feeds)]
        self.app.router.add_post("/_control/round", self.control_round)
        self.app.router.add_post("/_control/misbehave/{on}", self.control_misbehave)
        for name in self.names:
            for _ in range(ITEMS_PER_FEED):
                self._item(name, matching=self.counter % 3 == 0)

    def _item(self, name: str, matching: bool) -> None:
        self.counter += 1
        n = self.counter
        title = f"Queen of Tears: Episode {n % 16 + 1}" if matching else f"Behind the scenes, part {n}"
        self.add(name, title, link=f"http://example.test/{name}/{n}", summary=SUMMARY)
        state = self.feed(name)
        del state.items[:-ITEMS_PER_FEED]

    async def control_round(self, request: web.Request) -> web.Response:
        """New items for every "new" feed: one recap that matches an episode, one that does not."""
        for name in self.names:
            if kind_of(name) == "new":
                self._item(name, matching=True)
                self._item(name, matching=False)
        return web.Response(text="ok")

    async def control_misbehave(self, request: web.Request) -> web.Response:
        self.misbehave = request.match_info["on"] == "on"
        return web.Response(text="ok")

    async def serve(self, request: web.Request) -> web.StreamResponse:
        if self.misbehave:
            kind = kind_of(request.match_info["name"])
            if kind == "fail":
                return web.Response(status=500, text="nope")
            if kind == "slow":
                await asyncio.sleep(self.slow)
        return await super().serve(request)


async def serve_feeds(feeds: int, slow: float) -> None:
    server = await BenchFeedServer(feeds, slow).start()
    print(f"PORT {server.port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    await server.stop()


# -- measuring -------------------------------------------------------------------------------------------------
def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measured(work: Callable[[], Awaitable[Any]], feeds: int) -> tuple[dict[str, float], Any]:
    gc.collect()
    reset_peak_rss()
    rss_before = rss_mib("VmRSS")
    cpu = cpu_seconds()
    start = time.perf_counter()
    result = await work()
    wall = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    figures = {
        "wall_s": round(wall, 3),
        "cpu_ms_per_feed": round(cpu * 1000 / feeds, 3),
        "rss_before_mib": rss_before,
        "peak_rss_mib": rss_mib("VmHWM"),
    }
    return figures, result


async def floor_cycle(urls: list[tuple[str, str | None]], concurrency: int) -> Counter[str]:
    """Plain GETs with the product's headers, timeout, connector limit and concurrency."""
    semaphore = asyncio.Semaphore(concurrency)
    statuses: Counter[str] = Counter()
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=64), timeout=TIMEOUT, headers={"User-Agent": USER_AGENT, "Accept": ACCEPT}
    ) as session:

        async def get(url: str, etag: str | None) -> None:
            async with semaphore:
                async with session.get(url, headers={"If-None-Match": etag} if etag else {}) as response:
                    await response.read()
                    statuses[str(response.status)] += 1

        await asyncio.gather(*(get(url, etag) for url, etag in urls))
    return statuses


class Bench:
    def __init__(self, sandbox: Sandbox, base: str, feeds: int) -> None:
        self.sandbox = sandbox
        self.bot = sandbox.bot
        self.base = base
        self.n = feeds
        self.recaps = int(sandbox.world.channel_by_name("recaps")["id"])
        self.control = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.control.close()

    async def post(self, path: str) -> None:
        async with self.control.post(self.base + path) as response:
            assert response.status == 200, path

    async def add_feeds(self) -> None:
        repo = self.bot.feeds.repo
        for i in range(self.n):
            await repo.add(self.sandbox.world.guild_id, f"{self.base}/f{i:04d}.xml", None, self.recaps, 1)

    async def use_concurrency(self, concurrency: int) -> None:
        feeds = self.bot.feeds
        await feeds.fetcher.close()
        feeds.fetcher = Fetcher(allow_private=True, concurrency=concurrency)

    async def prime(self) -> None:
        """The first poll of each feed records what exists (and its ETag), posts nothing."""
        await self.post("/_control/misbehave/off")
        await self.use_concurrency(64)
        feeds = await self.bot.feeds.repo.active()
        outcomes = await asyncio.gather(*(self.bot.feeds.poll(f) for f in feeds))
        statuses = Counter(o.status for o in outcomes)
        if statuses != Counter({"primed": self.n}):
            raise SystemExit(f"priming failed: {dict(statuses)}")

    async def next_round(self) -> list[Any]:
        await self.post("/_control/round")
        await self.post("/_control/misbehave/on")
        await self.bot.db.execute("UPDATE feeds SET failures = 0")  # every round alike: none reaches 5 and stops
        return await self.bot.feeds.repo.active()

    def expected(self) -> dict[str, int]:
        kinds = Counter(kind_of(f"f{i:04d}") for i in range(self.n))
        return {"new": kinds["new"], "not modified": kinds["same"] + kinds["slow"], "failed": kinds["fail"]}

    def check(self, outcomes: list[Any], posts_before: int) -> dict[str, int]:
        statuses = dict(Counter(o.status for o in outcomes))
        posted = len(self.sandbox.world.messages[self.recaps]) - posts_before
        if statuses != self.expected() or posted != self.expected()["new"]:
            raise SystemExit(f"wrong cycle: outcomes {statuses}, {posted} posts; expected {self.expected()}")
        return {**statuses, "posted": posted}

    async def cycle(self, concurrency: int) -> dict[str, Any]:
        feeds = await self.next_round()
        urls = [(f.url, f.etag) for f in feeds]
        floor, statuses = await measured(lambda: floor_cycle(urls, concurrency), self.n)
        await self.use_concurrency(concurrency)
        posts_before = len(self.sandbox.world.messages[self.recaps])
        product, outcomes = await measured(lambda: asyncio.gather(*(self.bot.feeds.poll(f) for f in feeds)), self.n)
        return {
            "floor": {**floor, "statuses": dict(statuses)},
            "product": {**product, **self.check(outcomes, posts_before)},
        }

    async def scheduler_cycle(self, concurrency: int) -> dict[str, Any]:
        """One cycle the way the running bot does it: every POLL job due, Scheduler.run_due."""
        feeds = await self.next_round()
        await self.use_concurrency(concurrency)
        scheduler = self.bot.scheduler
        await scheduler.stop()  # run_due below is the only runner
        now = self.bot.clock.now()
        for feed in feeds:
            await scheduler.ensure(POLL, {"feed_id": feed.id}, now, dedupe_key=f"feed:{feed.id}")
        posts_before = len(self.sandbox.world.messages[self.recaps])
        figures, ran = await measured(scheduler.run_due, self.n)
        posted = len(self.sandbox.world.messages[self.recaps]) - posts_before
        if ran != self.n or posted != self.expected()["new"]:
            raise SystemExit(f"wrong scheduler cycle: {ran} jobs ran, {posted} posts")
        return {**figures, "jobs": ran, "posted": posted}


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    walls = [r["wall_s"] for r in rows]
    return {
        "wall_s": round(statistics.median(walls), 3),
        "wall_min_s": min(walls),
        "wall_max_s": max(walls),
        "cpu_ms_per_feed": round(statistics.median(r["cpu_ms_per_feed"] for r in rows), 3),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in rows),
        "rss_before_mib": round(statistics.median(r["rss_before_mib"] for r in rows), 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    logging.basicConfig(level=logging.ERROR)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE),
        "--serve",
        "--feeds",
        str(args.feeds),
        "--slow",
        str(args.slow),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    line = (await asyncio.wait_for(child.stdout.readline(), 60)).decode()
    if not line.startswith("PORT "):
        raise SystemExit(f"the feed server did not start: {line!r}")
    base = f"http://127.0.0.1:{int(line.split()[1])}"
    report: dict[str, Any] = {
        "feeds": args.feeds,
        "mix": "40% new items, 40% 304, 10% slow, 10% HTTP 500",
        "slow_s": args.slow,
        "rounds": args.rounds,
        "cycles": {},
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with Sandbox(db_path=Path(tmp) / "bench.db", now=datetime(2026, 11, 27, tzinfo=UTC)) as sandbox:
                bench = Bench(sandbox, base, args.feeds)
                try:
                    await bench.add_feeds()
                    await bench.prime()
                    for concurrency in args.concurrency:
                        rows = [await bench.cycle(concurrency) for _ in range(args.rounds)]
                        product = median_row([r["product"] for r in rows])
                        floor = median_row([r["floor"] for r in rows])
                        product["ratio_wall_to_floor"] = round(product["wall_s"] / floor["wall_s"], 2)
                        product["outcomes"] = {k: rows[-1]["product"][k] for k in ("new", "not modified", "failed")}
                        product["posted"] = rows[-1]["product"]["posted"]
                        floor["statuses"] = rows[-1]["floor"]["statuses"]
                        report["cycles"][str(concurrency)] = {"product": product, "floor": floor}
                    if args.scheduler:
                        report["scheduler"] = await bench.scheduler_cycle(DEFAULT_CONCURRENCY)
                    if sandbox.errors:
                        raise SystemExit(f"the bot reported errors: {sandbox.errors}")
                finally:
                    await bench.close()
    finally:
        child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()
    default = report["cycles"].get(str(DEFAULT_CONCURRENCY))
    report["target_s"] = TARGET_S
    report["lower_bound_s"] = {
        c: round(args.feeds * KINDS.count("slow") / len(KINDS) * args.slow / min(int(c), 64), 2)
        for c in report["cycles"]
    }
    if default is not None:
        report["target_met_at_default_concurrency"] = default["product"]["wall_s"] <= TARGET_S
    return report


def print_report(report: dict[str, Any]) -> None:
    print(
        f"{report['feeds']} feeds ({report['mix']}, slow = {report['slow_s']} s); median of {report['rounds']} "
        "cycle(s) per concurrency"
    )
    print(
        f"{'concurrency':>11} {'who':<8} {'wall s':>7} {'(min–max)':>13} {'CPU ms/feed':>12} {'peak RSS MiB':>13} "
        f"{'× floor':>8} {'slow-feed bound s':>18}"
    )
    for concurrency, cycle in report["cycles"].items():
        for who in ("product", "floor"):
            row = cycle[who]
            ratio = f"{row['ratio_wall_to_floor']:.2f}" if who == "product" else ""
            print(
                f"{concurrency:>11} {who:<8} {row['wall_s']:>7.2f} {row['wall_min_s']:>6.2f}–{row['wall_max_s']:<6.2f} "
                f"{row['cpu_ms_per_feed']:>12.3f} {row['peak_rss_mib']:>13.1f} {ratio:>8} "
                f"{report['lower_bound_s'][concurrency]:>18.2f}"
            )
    if "scheduler" in report:
        row = report["scheduler"]
        print(
            f"scheduler (Scheduler.run_due, concurrency {DEFAULT_CONCURRENCY}): {row['wall_s']:.2f} s wall, "
            f"{row['cpu_ms_per_feed']:.3f} CPU ms/feed, peak RSS {row['peak_rss_mib']:.1f} MiB, {row['posted']} posts"
        )
    if "target_met_at_default_concurrency" in report:
        met = "met" if report["target_met_at_default_concurrency"] else "NOT met"
        print(f"target: one cycle ≤ {report['target_s']:.0f} s at the default concurrency {DEFAULT_CONCURRENCY}: {met}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="measured cycles per concurrency")
    parser.add_argument(
        "--concurrency",
        type=int,
        action="append",
        help=f"the fetcher's concurrency (repeatable; default {DEFAULT_CONCURRENCY}, 32 and 64)",
    )
    parser.add_argument("--slow", type=float, default=2.0, help="seconds a slow feed takes to answer")
    parser.add_argument("--scheduler", action="store_true", help="also one cycle through Scheduler.run_due")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the feed server child
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_feeds(args.feeds, args.slow))
        return
    args.concurrency = args.concurrency or [DEFAULT_CONCURRENCY, 32, 64]
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
