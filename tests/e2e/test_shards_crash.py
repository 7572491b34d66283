"""Two bot processes (`python -m bot run`, SHARD_COUNT=2, SHARD_IDS 0 and 1) against one sandbox and
one PostgreSQL: the process holding the server is SIGKILLed in the middle of a burst of watch party
posts (reminders, some of two messages, and "starting now" posts), after Discord made one of its
messages and before the answer reached it. The other process takes the shard over after the lease
(it reconnects with both shards), claims the dead process's jobs again once their lease has run
out, and finishes the burst: every post is in #general exactly once, recorded, every job done.
(PostgreSQL; skipped with one line where none answers. Marked slow: run by `.ci/run`.)"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.catalog import load_catalog_or_raise
from bot.discussions import JOB_KIND as THREAD_OPEN
from bot.discussions import job_key
from bot.nonce import nonce
from bot.sandbox.world import World
from bot.scheduling import Scheduler, SystemClock
from bot.server_settings import ServerSettings
from bot.settings import DEFAULT_CATALOG_PATH
from bot.storage.discussions import FollowsRepo
from bot.storage.feeds import FeedsRepo
from bot.storage.jobs import JobsRepo
from bot.storage.postgres import PostgresDatabase
from bot.storage.processes import ProcessesRepo
from bot.storage.watchparties import PartiesRepo, Party, RsvpRepo
from bot.ui.watchparties import reminder_texts
from bot.watchparties import REMIND, START
from tests.backends import PG_URL, Target, target
from tests.e2e.crash import Child, KillPoint, channel_id, child_env, crash_rig, slow_creates
from tests.e2e.feedserver import FeedServer

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]

LEASE = "2"
PARTIES = 12  # every third with 150 members going (its reminder takes two messages)
DEADLINE = 90.0  # a safety net only


async def open_pg(pg: Target) -> PostgresDatabase:
    return await PostgresDatabase.connect(PG_URL, server_settings={"search_path": pg.schema})


async def starting_party(
    db: PostgresDatabase, scheduler: Scheduler, guild_id: int, general: int, mina: int, episode: int, going: int
) -> Party:
    """A Queen of Tears watch party starting now (announced in `general`, `going` members), with its
    start due now and its 1-minute reminder due a minute ago (late, as after downtime)."""
    now = datetime.now(UTC).replace(microsecond=0)
    parties, rsvps = PartiesRepo(db), RsvpRepo(db)
    party = await parties.create(
        Party(
            guild_id=guild_id,
            drama="queen-of-tears",
            first_episode=episode,
            last_episode=episode,
            start_at=now,
            end_at=now + timedelta(minutes=70),
            timezone="UTC",
            channel_id=None,
            location="Online",
            repeat="none",
            reminders=(1,),
            note="",
            created_by=mina,
        )
    )
    party = party.with_(announce_channel=general)
    await parties.update(party)
    members = [1_300_000_000_000_000_000 + party.id * 1000 + i for i in range(going)]
    await rsvps.set_many(party.id, [(member, "going") for member in members])
    payload = {"party_id": party.id, "guild_id": guild_id}
    await scheduler.ensure(
        REMIND, {**payload, "minutes": 1}, now - timedelta(minutes=1), dedupe_key=f"party:{party.id}:remind:1"
    )
    await scheduler.ensure(START, payload, now, dedupe_key=f"party:{party.id}:start")
    return party


async def schedule(pg: Target, guild_id: int, general: int, mina: int) -> list[tuple[int, str, int]]:
    """Parties starting now, each with its 1-minute reminder due now too (late, as after downtime);
    returns every message due: (party, kind, part)."""
    catalog = load_catalog_or_raise([DEFAULT_CATALOG_PATH])
    drama = catalog.dramas["queen-of-tears"]
    due: list[tuple[int, str, int]] = []
    db = await open_pg(pg)
    try:
        await db.migrate()
        await ServerSettings(db).update(guild_id, announcements_channel_id=general)
        rsvps = RsvpRepo(db)
        scheduler = Scheduler(JobsRepo(db, shard_count=2), SystemClock())
        for n in range(PARTIES):
            party = await starting_party(db, scheduler, guild_id, general, mina, n + 1, 150 if n % 3 == 0 else 6)
            parts = reminder_texts(drama, party, await rsvps.going(party.id), 1)
            due += [(party.id, "remind:1", i) for i in range(len(parts))]
            due.append((party.id, "start", 0))
    finally:
        await db.close()
    return due


async def finished(pg: Target) -> bool:
    db = await open_pg(pg)
    try:
        busy = await db.fetchone("SELECT COUNT(*) AS n FROM jobs WHERE state IN ('pending', 'running')")
        unsent = await db.fetchone("SELECT COUNT(*) AS n FROM party_posts WHERE message_id IS NULL")
        return busy is not None and unsent is not None and busy["n"] == 0 and unsent["n"] == 0
    finally:
        await db.close()


async def test_the_process_holding_the_server_is_killed_mid_burst_and_the_other_finishes_it_exactly_once(
    tmp_path: Path,
) -> None:
    async with target("postgresql", tmp_path / "unused.db") as pg, crash_rig(tmp_path) as rig:
        server, world = rig.server, rig.world
        server.shard_count = 2
        slow_creates(server, rig.stats)
        home = (world.guild_id >> 22) % 2
        other = 1 - home
        general = channel_id(world, "general")
        due = await schedule(pg, world.guild_id, general, world.mina)

        def child(shard: int) -> Child:
            env = child_env(
                server,
                rig.db_path,
                {"DATABASE_URL": pg.url, "SHARD_COUNT": "2", "SHARD_IDS": str(shard), "JOB_LEASE_SECONDS": LEASE},
            )
            made = Child(("-m", "tests.e2e.crash_child"), env, tmp_path, tmp_path / f"shard{shard}.log")
            rig.children.append(made)
            rig.request_marks.append(len(server.requests))
            return made

        async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
            loop = asyncio.get_running_loop()
            limit = loop.time() + DEADLINE
            while not await check():
                assert survivor.alive(), f"the surviving process exited:\n{rig.logs()}"
                assert loop.time() < limit, f"timed out waiting for {what}:\n{rig.logs()}"
                await asyncio.sleep(0.05)

        async def connected() -> bool:
            return server.identifies > identifies

        # The process without the server first, then the one holding it, which starts the burst.
        survivor = child(other)
        identifies = server.identifies
        await survivor.start()
        await until(connected, "the first process to connect")
        holder = child(home)
        await holder.start()
        rig.arm(holder, KillPoint(DEADLINE, 5, "create_message"))  # after Discord made its 5th message
        where = await rig.until_killed()
        assert where.endswith("(after create_message)"), where
        made_before_kill = len(world.messages[general])

        # The survivor takes the shard over and finishes the burst.
        await until(lambda: finished(pg), "the burst to be finished by the surviving process")
        db = await open_pg(pg)
        try:
            rows = {r.name: r for r in await ProcessesRepo(db).all()}
            states = await JobsRepo(db).count_by_state()
        finally:
            await db.close()
        assert rows[f"shards-{other}"].shard_ids == (0, 1), rows
        assert set(states) == {"done"}, states
        await rig.stop_children()

    posted = Counter(m["nonce"] for m in world.messages[general])
    expected = {
        nonce("party", party_id, kind, part) if kind != "start" else nonce("party", party_id, kind)
        for party_id, kind, part in due
    }
    assert len(expected) == 28  # 12 starts and 16 reminder messages (4 reminders take two)
    assert {n: c for n, c in posted.items() if c != 1} == {}, "a post was sent twice"
    assert set(posted) == expected, "a post is missing, or one nobody scheduled was sent"
    assert 5 <= made_before_kill < len(expected)  # killed mid-burst: some posts were left to the survivor
    assert server.violations == []


GUILDS = 20
FEEDS_PER_GUILD = 10
WANTED = {"Queen of Tears · Episode 3 · spoilers", "Queen of Tears · Episode 5 · spoilers"}


async def test_twenty_servers_two_processes_one_killed_mid_burst_every_post_exactly_once(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """The issue's picture: 20 servers on two processes (10 each, by shard), one PostgreSQL; in every
    server a followed drama's episode thread opens, a watch party's reminder and start are posted,
    and 10 feeds are polled (200 feeds, one new item each) — all at once. The process of shard 0 is
    SIGKILLed mid-burst (once its servers have 30 posts); the other takes shard 0 over after the
    lease and finishes: every thread, reminder, start and feed item exactly once."""

    def more_servers(world: World) -> None:
        for _ in range(GUILDS - 1):
            world.add_guild()

    async with (
        target("postgresql", tmp_path / "unused.db") as pg,
        crash_rig(tmp_path, world_setup=more_servers) as rig,
    ):
        server, world = rig.server, rig.world
        server.shard_count = 2
        slow_creates(server, rig.stats)
        links: dict[int, list[str]] = {}
        db = await open_pg(pg)
        try:
            await db.migrate()
            settings, follows, feeds_repo = ServerSettings(db), FollowsRepo(db), FeedsRepo(db)
            scheduler = Scheduler(JobsRepo(db, shard_count=2), SystemClock())
            now = datetime.now(UTC).replace(microsecond=0)
            for guild_id in world.guilds:
                general = _channel(world, "general", guild_id)
                recaps = _channel(world, "recaps", guild_id)
                await settings.update(
                    guild_id,
                    announcements_channel_id=general,
                    discussions_channel_id=_channel(world, "discussions", guild_id),
                    recaps_channel_id=recaps,
                )
                await follows.add(guild_id, "queen-of-tears")
                await scheduler.ensure(
                    THREAD_OPEN,
                    {"guild_id": guild_id, "drama": "queen-of-tears", "episode": 3},
                    now,
                    dedupe_key=job_key(guild_id, "queen-of-tears", 3),
                )
                await starting_party(db, scheduler, guild_id, general, world.mina, 5, 1)
                for j in range(FEEDS_PER_GUILD):
                    name = f"g{guild_id}-f{j}"
                    link = f"http://example.test/{name}/item-1"
                    feeds.add(name, "Queen of Tears: Episode 9", link=link, summary="A recap.")
                    feed = await feeds_repo.add(guild_id, feeds.url(name), None, recaps, world.mina)
                    await db.execute("UPDATE feeds SET primed = 1 WHERE id = ?", (feed.id,))
                    links.setdefault(guild_id, []).append(link)
        finally:
            await db.close()

        def child(shard: int) -> Child:
            env = child_env(
                server,
                rig.db_path,
                {
                    "DATABASE_URL": pg.url,
                    "SHARD_COUNT": "2",
                    "SHARD_IDS": str(shard),
                    "JOB_LEASE_SECONDS": LEASE,
                    "FEEDS_ALLOW_PRIVATE": "1",
                    "FEEDS_POLL_SECONDS": "600",
                },
            )
            made = Child(("-m", "tests.e2e.crash_child"), env, tmp_path, tmp_path / f"shard{shard}.log")
            rig.children.append(made)
            rig.request_marks.append(len(server.requests))
            return made

        survivor = child(1)
        identifies = server.identifies
        await survivor.start()
        loop = asyncio.get_running_loop()
        limit = loop.time() + DEADLINE
        while server.identifies == identifies:
            assert loop.time() < limit and survivor.alive(), rig.logs()
            await asyncio.sleep(0.05)
        doomed = child(0)
        await doomed.start()

        # Both run; shard 0's process is killed once its servers have 30 of their ~130 posts (the
        # sandbox holds each create 15 ms before and after making it, so creates are in flight).
        def shard_zero_posts() -> int:
            return sum(len(ms) for cid, ms in world.messages.items() if (world.guild_of(cid).id >> 22) % 2 == 0)

        while shard_zero_posts() < 30:
            assert loop.time() < limit and doomed.alive(), f"shard 0's process did not post:\n{rig.logs()}"
            await asyncio.sleep(0.005)
        doomed.sigkill()
        at_kill = shard_zero_posts()

        def everything_out() -> bool:
            return all(_out(world, guild_id, links[guild_id]) for guild_id in world.guilds)

        while not everything_out():
            assert survivor.alive(), f"the surviving process exited:\n{rig.logs()}"
            assert loop.time() < limit, f"not everything was posted:\n{rig.logs()}"
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # a duplicate would come now
        await rig.stop_children()
        finished_posts = shard_zero_posts()

    nonces = Counter(m["nonce"] for ms in world.messages.values() for m in ms if m.get("nonce"))
    assert {n: c for n, c in nonces.items() if c != 1} == {}, "a post was sent twice"
    for guild_id in world.guilds:
        assert _out(world, guild_id, links[guild_id], exactly=True), guild_id
    assert at_kill < finished_posts  # killed mid-burst: the survivor posted the rest of shard 0's work
    assert server.violations == []


def _channel(world: World, name: str, guild_id: int) -> int:
    found = world.channel_by_name(name, guild_id)
    assert found is not None
    return int(found["id"])


def _out(world: World, guild_id: int, links: list[str], *, exactly: bool = False) -> bool:
    """The server's threads, reminder, start and feed items are out (`exactly`: each once)."""
    general = world.messages[_channel(world, "general", guild_id)]
    recaps = world.messages[_channel(world, "recaps", guild_id)]
    discussions = str(_channel(world, "discussions", guild_id))
    # Episode 3's thread (its opening job) and episode 5's (the watch party's start opens it).
    names = Counter(t["name"] for t in world.threads() if t["parent_id"] == discussions)
    counts = (
        len(names) // 2,
        sum((m.get("content") or "").startswith("⏰ Watch party") for m in general),
        sum("is starting now" in (m.get("content") or "") for m in general),
    )
    posted = Counter(m["embeds"][0].get("url") for m in recaps if m.get("embeds"))
    if exactly:
        return counts == (1, 1, 1) and posted == Counter(links) and set(names.values()) == {1} and set(names) == WANTED

    return min(counts) >= 1 and set(posted) >= set(links)
