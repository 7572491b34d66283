"""Shards, end to end: the sandbox speaks Discord's sharded gateway (GET /gateway/bot gives a shard
count, IDENTIFY carries [shard_id, num_shards], a server's events arrive only on shard
(guild_id >> 22) % num_shards), the bot runs as discord.py's AutoShardedBot, and a process running
some shards runs only their servers' jobs, records its heartbeat, and shows in `python -m bot status`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.client import ShardedDramawatch, create_bot, discover_extensions, serve
from bot.sandbox.harness import Sandbox
from bot.sandbox.world import World
from bot.scheduling import ManualClock
from bot.settings import Settings
from bot.storage.jobs import JobsRepo
from bot.storage.processes import ProcessesRepo
from tests.backends import Target, target
from tests.e2e.conftest import Driver, checked_sandbox, text_of

NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def guild_creates(sb: Sandbox) -> Counter[tuple[int, int]]:
    """GUILD_CREATE events sent, per session shard."""
    return Counter(s.shard for s in sb.server.sessions.values() for f in s.backlog if f["t"] == "GUILD_CREATE")


@pytest.fixture
async def sharded(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with checked_sandbox(tmp_path, NOW, probe=False, shard_count=4) as sb:
        yield sb


def serving(sb: Sandbox, settings: Settings, started: Callable[[Any], None]) -> asyncio.Task[None]:
    """Another bot process against the sandbox (its clock), as `python -m bot run` runs one: resharding
    restarts it with its new shards; `started` is told of each bot made."""
    return asyncio.create_task(
        serve(
            settings,
            settings.token or "",
            started=started,
            clock=sb.clock,
            extensions=discover_extensions(),
            guild_ready_timeout=0.05,
            identify_wait=0.0,
        )
    )


async def test_one_process_runs_every_shard_and_each_server_arrives_on_its_own(sharded: Sandbox) -> None:
    bot, world = sharded.bot, sharded.world
    assert isinstance(bot, ShardedDramawatch)
    assert sorted(bot.shards) == [0, 1, 2, 3]
    assert sharded.server.identifies == 4
    home = (world.guild_id >> 22) % 4
    guild = bot.get_guild(world.guild_id)
    assert guild is not None and guild.shard_id == home
    assert guild_creates(sharded) == {(home, 4): 1}  # only on the server's own shard

    drive = Driver(sharded)
    await drive.as_("mod")
    scheduled = await drive.reply(
        '/watchparty schedule drama:queen-of-tears episodes:3 start:"2026-11-28 20:00" reminders:1h'
    )
    assert "#1" in text_of(scheduled)
    await drive.as_("member")
    assert "episode 2" in text_of(await drive.reply("/progress set drama:queen-of-tears episode:2"))

    jobs = JobsRepo(bot.db, shard_count=4)
    # The party's jobs belong to its server, so only a process running its shard claims them.
    assert await jobs.next_due(shards=[s for s in range(4) if s != home]) is None
    assert await jobs.next_due(shards=[home]) is not None
    await drive.ok(":advance 2d")
    assert len(starting(world)) == 1


def starting(world: Any) -> list[dict[str, Any]]:
    """Every "the watch party … is starting now" post, in any channel."""
    return [m for ms in world.messages.values() for m in ms if "is starting now" in (m.get("content") or "")]


@asynccontextmanager
async def with_second_process(sb: Sandbox, shards: tuple[int, ...], lease: float = 60.0) -> AsyncIterator[Any]:
    """The sandbox (started here) and a second bot process against it running `shards`; on exit both
    stop, and any error the sandbox's bot reported or spec violation fails the test."""
    await sb.start()
    bot, task = None, None
    try:
        settings = dataclasses.replace(sb.settings(), shard_ids=shards, job_lease_seconds=lease)
        bot = create_bot(
            settings, clock=sb.clock, extensions=discover_extensions(), guild_ready_timeout=0.05, identify_wait=0.0
        )
        await bot.login(settings.token or "")
        task = asyncio.create_task(bot.connect(reconnect=True))
        await asyncio.wait_for(bot.wait_until_ready(), 15)
        yield bot
    finally:
        if bot is not None:
            await bot.close()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        errors, violations = list(sb.errors), list(sb.violations)
        await sb.close()
    assert not errors and not violations, (errors, violations)


@pytest.mark.postgresql
async def test_two_processes_split_the_shards_on_one_postgresql(tmp_path: Path) -> None:
    async with target("postgresql", tmp_path / "unused.db") as pg:
        await _two_processes(tmp_path, pg)


def process_of(shards: tuple[int, ...], lease: float = 60.0) -> Callable[[Settings, ManualClock], Any]:
    """The sandbox's own bot as a process running these shards (of 2), with this lease."""

    def make(settings: Settings, clock: ManualClock) -> Any:
        mine = dataclasses.replace(settings, shard_ids=shards, job_lease_seconds=lease)
        return create_bot(
            mine, clock=clock, extensions=discover_extensions(), guild_ready_timeout=0.05, identify_wait=0.0
        )

    return make


# The sandbox's first server and the shard (of 2) it is on.
HOME = (World(ManualClock(NOW)).guild_id >> 22) % 2


async def _two_processes(tmp_path: Path, pg: Target) -> None:
    home, other = [HOME], 1 - HOME
    sb = Sandbox(db_path=pg.url, now=NOW, shard_count=2, bot_factory=process_of((HOME,), 3))
    async with with_second_process(sb, (other,), 3) as second:
        assert sb.bot.get_guild(sb.world.guild_id) is not None
        assert list(second.guilds) == []  # its shard has no server
        assert guild_creates(sb) == {(home[0], 2): 1}

        drive = Driver(sb)
        await drive.as_("mod")
        await drive.reply('/watchparty schedule drama:queen-of-tears episodes:3 start:"2026-11-28 20:00"')
        await drive.as_("member")
        await drive.reply("/progress set drama:queen-of-tears episode:4")
        assert "episode 4/16" in text_of(await drive.reply("/progress show"))

        # Both heartbeats land in the database; `status` reads them from there.
        await asyncio.sleep(1.5)
        env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_PATH", "SHARD_COUNT")} | {
            "DATABASE_URL": pg.url,
            "JOB_LEASE_SECONDS": "3",
        }
        proc = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        status = json.loads(proc.stdout)
        by_name = {p["name"]: p for p in status["processes"]}
        assert set(by_name) == {f"shards-{home[0]}", f"shards-{other}"}
        assert all(p["state"] == "live" for p in by_name.values())
        assert by_name[f"shards-{home[0]}"]["shards"] == f"{home[0]} of 2"
        assert status["uncovered"] == []
        # The party's start and end (due by the wall clock `status` reads; the sandbox's stands still).
        assert status["queue"]["due"] + status["queue"]["later"] >= 2
        text = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "bot", "status"], env=env, capture_output=True, text=True, timeout=60
        )
        assert f"shards-{other}" in text.stdout and "Jobs:" in text.stdout

        # The party's start runs on the process holding its server, once; the other never claims it.
        await drive.ok(":advance 2d")
        assert len(starting(sb.world)) == 1
        assert second.scheduler.running == 0


@pytest.mark.postgresql
async def test_a_dead_processs_shard_is_taken_over_and_its_job_still_posts_once(tmp_path: Path) -> None:
    """The process holding the server dies after its watch party's start was posted but before the
    job was recorded done. The other process takes the shard over after the lease (it reconnects with
    both shards), claims the job again once its lease ran out, finds the post already there and posts
    nothing more: one start post. Started again, the dead process waits until the survivor hands its
    shard back, then runs it."""
    async with target("postgresql", tmp_path / "unused.db") as pg:
        await _takeover(pg)


async def _takeover(pg: Target) -> None:
    lease = 3.0
    home, other = [HOME], 1 - HOME
    sb = Sandbox(db_path=pg.url, now=NOW, shard_count=2, bot_factory=process_of((HOME,), lease))
    await sb.start()
    bots: list[Any] = []
    again: list[Any] = []
    survivor: asyncio.Task[None] | None = None
    returned: asyncio.Task[None] | None = None
    try:
        settings = dataclasses.replace(sb.settings(), shard_ids=(other,), job_lease_seconds=lease)
        survivor = serving(sb, settings, bots.append)
        await _until(lambda: bool(bots) and bots[-1].is_ready(), "the second process to be ready")
        drive = Driver(sb)
        await drive.as_("mod")
        await drive.reply('/watchparty schedule drama:queen-of-tears episodes:3 start:"2026-11-27 01:00"')

        # The holder posts the start, then dies before its outcome is written.
        dead = sb.bot
        jobs = dead.scheduler._jobs

        async def never(now: Any, outcomes: Any) -> None:
            return None

        jobs.finish = never
        await drive.ok(":advance 1h")
        assert len(starting(sb.world)) == 1
        running = await jobs.live_by_key("party:1:start")
        assert running is not None and running.state == "running"
        presence_task = dead.presence._task
        assert presence_task is not None
        presence_task.cancel()  # no more heartbeats, and no "stopped" mark: it died
        dead.presence._task = None
        await dead.close()

        # The survivor takes the shard over after the lease, reconnecting with both shards.
        await _until(lambda: len(bots) == 2 and bots[-1].is_ready(), "the takeover", within=30)
        taker = bots[-1]
        assert sorted(taker.shards) == [0, 1] and taker.get_guild(sb.world.guild_id) is not None
        # Once the dead claim's lease has passed (the bot's clock), the job runs again, here: the
        # start post is found, not sent again.
        sb.clock.advance(timedelta(seconds=lease * 4))
        repo = JobsRepo(taker.db)

        async def done() -> bool:
            job = await repo.get(running.id)
            return job is not None and job.state == "done"

        await _until_async(done, "the job to be done by the survivor", within=30)
        assert len(starting(sb.world)) == 1
        rows = {r.name: r for r in await ProcessesRepo(taker.db).all()}
        assert rows[f"shards-{other}"].shard_ids == (0, 1) and rows[f"shards-{other}"].configured == (other,)

        # The dead process is started again: it waits until the survivor hands its shard back.
        back = dataclasses.replace(sb.settings(), shard_ids=(home[0],), job_lease_seconds=lease)
        returned = serving(sb, back, again.append)
        await _until(lambda: bool(again) and again[-1].is_ready(), "the returning process", within=30)
        assert again[-1].get_guild(sb.world.guild_id) is not None
        assert len(bots) == 3 and sorted(bots[-1].shards) == [other]  # handed back: its own shard only
        rows = {r.name: r for r in await ProcessesRepo(again[-1].db).all()}
        assert rows[f"shards-{other}"].shard_ids == (other,) and rows[f"shards-{home[0]}"].shard_ids == (home[0],)
    finally:
        for bot in [*bots, *again]:
            await bot.close()
        for task in (survivor, returned):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        errors, violations = list(sb.errors), list(sb.violations)
        await sb.close()
    assert not errors and not violations, (errors, violations)


async def _until(condition: Any, what: str, within: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _until_async(condition: Any, what: str, within: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.mark.postgresql
async def test_twenty_servers_on_two_processes_split_by_shard_and_every_post_once(tmp_path: Path) -> None:
    """20 servers (`Sandbox(guilds=20)`, as `--guilds 20`), two processes of one shard each on one
    PostgreSQL: each process gets its shard's 10 servers (and only a process of a server's shard runs
    its jobs: `test_two_processes_split_the_shards_on_one_postgresql`); in every server a followed
    drama's episode threads open at air time and a watch party's reminder and start are posted, each
    exactly once."""
    async with target("postgresql", tmp_path / "unused.db") as pg:
        sb = Sandbox(db_path=pg.url, now=NOW, shard_count=2, guilds=20, bot_factory=process_of((0,)))
        async with with_second_process(sb, (1,)) as second:
            world = sb.world
            mine, theirs = {g.id for g in sb.bot.guilds}, {g.id for g in second.guilds}
            assert len(mine) == len(theirs) == 10 and mine | theirs == set(world.guilds)
            assert all((g >> 22) % 2 == 0 for g in mine) and all((g >> 22) % 2 == 1 for g in theirs)

            drive = Driver(sb)
            await drive.as_("mod")
            await drive.ok('/catalog add query:"moonlight courier"')
            await drive.ok(":pick Moonlight Courier (2026)")
            # Imported by the process of the first server; the other applies it within a second.
            both = (sb.bot, second)
            await _until(lambda: all("moonlight-courier" in b.lookups.catalog.dramas for b in both), "the sync")
            for n in range(1, 21):
                await drive.ok(f":guild {n}")
                await drive.reply("/settings channel kind:discussions channel:#discussions")
                await drive.reply("/follow add drama:moonlight-courier")
                scheduled = await drive.reply(
                    '/watchparty schedule drama:moonlight-courier episodes:5 start:"2026-12-02 20:00" reminders:1h'
                )
                assert "#" in text_of(scheduled)
            await drive.ok(":advance 7d")
            await second.scheduler.settled()
            await sb.bot.scheduler.settled()

            for guild_id in world.guilds:
                general = world.channel_by_name("general", guild_id)
                discussions = world.channel_by_name("discussions", guild_id)
                assert general is not None and discussions is not None
                posts = [m.get("content") or "" for m in world.messages[int(general["id"])]]
                assert sum("is starting now" in p for p in posts) == 1, (guild_id, posts)
                assert sum(p.startswith("⏰ Watch party (1 hour reminder)") for p in posts) == 1, (guild_id, posts)
                threads = Counter(t["name"] for t in world.threads() if t["parent_id"] == discussions["id"])
                assert threads and set(threads.values()) == {1}, (guild_id, threads)
                assert set(threads) == {
                    "Moonlight Courier · Episode 5 · spoilers",
                    "Moonlight Courier · Episode 6 · spoilers",
                }
