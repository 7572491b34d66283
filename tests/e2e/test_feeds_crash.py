"""Exactly once across crashes: the real bot in a child process (`python -m bot run`) is SIGKILLed
at random points while new recap items keep arriving, and restarted, 20 times; every item is
posted exactly once.

In this process: a standalone loopback Discord (SandboxServer on the system clock, as the child
uses the real clock) and a loopback feed server. The child talks to both over loopback with the
settings a self-hoster would set. The sandbox answers message creates after a short delay (Discord
takes tens of milliseconds too), so a kill can land between the bot's claim of an item and its
post, and between Discord creating a message and the bot recording it as sent: the two windows an
exactly-once design must survive (the second through the message nonce, which the sandbox dedupes
as Discord does).

Each kill waits a seeded-random 0.2–1.5 s counted either from the child's spawn (kills while it
imports, migrates, connects and waits for the gateway) or from its first poll (kills while it
polls, claims and posts); a child needs ~3 s to become ready, so counting only from the spawn
would never hit the posting windows.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.server import SandboxServer
from bot.sandbox.world import World
from bot.scheduling import SystemClock
from bot.storage import Database
from bot.storage.feeds import FeedsRepo
from tests.e2e.feedserver import FeedServer

REPO = Path(__file__).resolve().parents[2]
SEED = 20240414
KILLS = 20
KILLS_AFTER_FIRST_POLL = 9  # the rest count from the spawn (a child needs ~3 s to poll: this bounds the run time)
FEED = "burst"

pytestmark = pytest.mark.slow  # ~40 s: run by .ci/run with `-m slow`, not by the default `python -m pytest`
POST_LATENCY = 0.015  # seconds before and after the sandbox creates a message
# Safety nets only (a hung child must not hang the suite); nothing asserts on time.
FIRST_POLL_DEADLINE = 30.0
DRAIN_DEADLINE = 60.0


class Child:
    """One `python -m bot run` process; its stderr goes to a file shown when the test fails."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as stderr:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=self.env,
                cwd=self.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
async def discord_server() -> AsyncIterator[SandboxServer]:
    server = SandboxServer(World(SystemClock()))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = await FeedServer().start()
    try:
        yield server
    finally:
        await server.stop()


def slow_message_creates(server: SandboxServer, stats: Counter[str]) -> None:
    """Give message creates Discord-like latency and count resends the nonce recognised."""
    original = server.op_create_message

    async def op_create_message(request: Any, params: dict[str, str], body: Any, files: Any) -> Any:
        await asyncio.sleep(POST_LATENCY)
        nonce = (body or {}).get("nonce")
        if nonce is not None and (int(params["channel_id"]), str(nonce)) in server.world.nonces:
            stats["resends recognised by nonce"] += 1
        response = await original(request, params, body, files)
        await asyncio.sleep(POST_LATENCY)
        return response

    server.op_create_message = op_create_message  # type: ignore[method-assign]


def item_states(db_path: Path) -> dict[str, tuple[str, int | None]]:
    """link -> (state, message_id), read with plain sqlite3 while the child may be writing."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT link, state, message_id FROM feed_items").fetchall()
    finally:
        conn.close()
    return {link: (state, message_id) for link, state, message_id in rows}


def claimed_items(db_path: Path) -> set[str]:
    return {link for link, (state, _) in item_states(db_path).items() if state == "claimed"}


async def prepare_database(db_path: Path, guild_id: int, channel_id: int, url: str) -> None:
    """A migrated database with one primed feed, so items are posted from the first poll on."""
    db = await Database.open(db_path)
    try:
        await db.migrate()
        feed = await FeedsRepo(db).add(guild_id, url, None, channel_id, 1100000000000000102)
        await db.execute("UPDATE feeds SET primed = 1 WHERE id = ?", (feed.id,))
    finally:
        await db.close()


async def test_sigkilled_twenty_times_during_a_burst_every_item_posted_exactly_once(
    tmp_path: Path, discord_server: SandboxServer, feed_server: FeedServer
) -> None:
    world = discord_server.world
    recaps = int(world.channel_by_name("recaps")["id"])
    db_path = tmp_path / "bot.db"
    await prepare_database(db_path, world.guild_id, recaps, feed_server.url(FEED))
    stats: Counter[str] = Counter()
    slow_message_creates(discord_server, stats)

    env = {k: v for k, v in os.environ.items() if k not in ("CATALOG_PATH", "DEV_GUILD_ID")}
    env.update(
        DISCORD_TOKEN="sandbox-token",
        DISCORD_API_BASE=discord_server.api_base,
        DISCORD_GATEWAY_URL=discord_server.gateway_url,
        DATABASE_PATH=str(db_path),
        FEEDS_ALLOW_PRIVATE="1",
        FEEDS_POLL_SECONDS="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p),
    )
    rng = random.Random(SEED)
    anchors = ["first poll"] * KILLS_AFTER_FIRST_POLL + ["spawn"] * (KILLS - KILLS_AFTER_FIRST_POLL)
    rng.shuffle(anchors)
    items_rng = random.Random(SEED + 1)
    links: list[str] = []
    burst_over = asyncio.Event()

    async def burst() -> None:
        while not burst_over.is_set():
            n = len(links) + 1
            link = f"http://example.test/{FEED}/item-{n}"
            feed_server.add(FEED, f"Queen of Tears: Episode {(n - 1) % 16 + 1}", link=link, summary=f"Recap {n}.")
            links.append(link)
            await asyncio.sleep(items_rng.uniform(0.05, 0.4))

    children: list[Child] = []

    def logs() -> str:
        return "\n".join(f"--- child {i} ---\n{c.output()}" for i, c in enumerate(children))

    async def spawn() -> Child:
        child = Child(env, tmp_path, tmp_path / f"child{len(children)}.log")
        children.append(child)
        await child.start()
        return child

    async def until_first_poll(child: Child, hits_before: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FIRST_POLL_DEADLINE
        while feed_server.feed(FEED).hits <= hits_before:
            assert child.alive(), f"the bot exited by itself:\n{logs()}"
            assert loop.time() < deadline, f"the bot never polled its feed:\n{logs()}"
            await asyncio.sleep(0.01)

    producer = asyncio.create_task(burst())
    child: Child | None = None
    try:
        for anchor in anchors:
            hits_before = feed_server.feed(FEED).hits
            claimed_before = claimed_items(db_path)
            child = await spawn()
            if anchor == "first poll":
                await until_first_poll(child, hits_before)
                stats["kills after the first poll"] += 1
            else:
                stats["kills while starting"] += 1
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            assert child.alive(), f"the bot exited by itself:\n{logs()}"
            await child.kill()
            if claimed_items(db_path) - claimed_before:
                stats["kills between a claim and its post"] += 1
        burst_over.set()
        await producer

        # The last start: it runs until everything is out (the deadline is a safety net only).
        child = await spawn()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_DEADLINE
        while True:
            posted = {m["embeds"][0].get("url") for m in world.messages[recaps] if m["embeds"]}
            states = item_states(db_path)
            if posted >= set(links) and all(states.get(link, ("", None))[0] == "sent" for link in links):
                break
            assert child.alive(), f"the bot exited by itself:\n{logs()}"
            assert loop.time() < deadline, (
                f"after {DRAIN_DEADLINE:.0f} s, {len(set(links) - posted)} of {len(links)} item(s) were still "
                f"not posted:\n{logs()}"
            )
            await asyncio.sleep(0.1)
        await child.kill()
    finally:
        burst_over.set()
        producer.cancel()
        for running in children:
            if running.alive():
                await running.kill()

    # Every item: exactly one message, in #recaps, recorded as sent with that message's id.
    messages = [m for channel in world.messages.values() for m in channel]
    by_link = Counter(m["embeds"][0].get("url") for m in messages if m["embeds"])
    assert {link: n for link, n in by_link.items() if n != 1} == {}, "some items were posted more than once"
    assert set(by_link) == set(links), "the bot posted something that is not a burst item"
    assert len(world.messages[recaps]) == len(links)
    assert len({m["nonce"] for m in world.messages[recaps]}) == len(links)
    states = item_states(db_path)
    assert len(states) == len(links)
    message_ids = {m["embeds"][0]["url"]: int(m["id"]) for m in world.messages[recaps]}
    assert {link: state for link, state in states.items() if state != ("sent", message_ids[link])} == {}
    assert discord_server.violations == []
    problems = [line for line in logs().splitlines() if "Traceback" in line or " ERROR " in line]
    assert problems == [], logs()
    assert stats["kills after the first poll"] + stats["kills while starting"] == KILLS
    print(f"\n{len(links)} items, {len(children)} starts, {discord_server.identifies} IDENTIFYs; {dict(stats)}")
    # The test is only worth its time if kills landed in the windows that matter.
    assert stats["kills between a claim and its post"] + stats["resends recognised by nonce"] > 0, dict(stats)
