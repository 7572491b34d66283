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

The child process, the sandbox server, the message latency and the checks of the logs are the crash
suites' shared plumbing (tests/e2e/crash.py); this suite starts the child exactly as `python -m bot
run` (discord.py's 2 s wait for more servers included).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from bot.storage.feeds import FeedsRepo
from tests.e2e.crash import BOT_RUN, channel_id, crash_rig, prepared_database, slow_creates
from tests.e2e.feedserver import FeedServer

SEED = 20240414
KILLS = 20
KILLS_AFTER_FIRST_POLL = 9  # the rest count from the spawn (a child needs ~3 s to poll: this bounds the run time)
FEED = "burst"

pytestmark = pytest.mark.slow  # ~40 s: run by .ci/run with `-m slow`, not by the default `python -m pytest`
# Safety nets only (a hung child must not hang the suite); nothing asserts on time.
FIRST_POLL_DEADLINE = 30.0
DRAIN_DEADLINE = 60.0


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = await FeedServer().start()
    try:
        yield server
    finally:
        await server.stop()


def item_states(db_path: Path) -> dict[str, tuple[str, int | None]]:
    """link -> (state, message_id), read with plain sqlite3 while the child may be writing."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT link, state, message_id FROM feed_items").fetchall()
    finally:
        conn.close()
    return {link: (state, message_id) for link, state, message_id in rows}


def polled_since(feed_server: FeedServer, hits: int) -> bool:
    return feed_server.feed(FEED).hits > hits


def claimed_items(db_path: Path) -> set[str]:
    return {link for link, (state, _) in item_states(db_path).items() if state == "claimed"}


async def prepare_database(db_path: Path, guild_id: int, channel_id: int, url: str) -> None:
    """A migrated database with one primed feed, so items are posted from the first poll on."""
    async with prepared_database(db_path) as db:
        feed = await FeedsRepo(db).add(guild_id, url, None, channel_id, 1100000000000000102)
        await db.execute("UPDATE feeds SET primed = 1 WHERE id = ?", (feed.id,))


async def test_sigkilled_twenty_times_during_a_burst_every_item_posted_exactly_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    env = {"FEEDS_ALLOW_PRIVATE": "1", "FEEDS_POLL_SECONDS": "1"}
    async with crash_rig(tmp_path, entry=BOT_RUN, env=env) as rig:
        world = rig.world
        recaps = channel_id(world, "recaps")
        db_path = rig.db_path
        await prepare_database(db_path, world.guild_id, recaps, feed_server.url(FEED))
        stats = rig.stats
        slow_creates(rig.server, stats)

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

        producer = asyncio.create_task(burst())
        try:
            for anchor in anchors:
                hits_before = feed_server.feed(FEED).hits
                claimed_before = claimed_items(db_path)
                child = await rig.spawn()
                if anchor == "first poll":
                    await rig.until(
                        partial(polled_since, feed_server, hits_before),
                        "the bot never polled its feed",
                        FIRST_POLL_DEADLINE,
                    )
                    stats["kills after the first poll"] += 1
                else:
                    stats["kills while starting"] += 1
                delay = rng.uniform(0.2, 1.5)
                await asyncio.sleep(delay)
                assert child.alive(), f"the bot exited by itself:\n{rig.logs()}"
                await rig.kill(child, f"{delay:.2f} s after its {anchor}")
                if claimed_items(db_path) - claimed_before:
                    stats["kills between a claim and its post"] += 1
            burst_over.set()
            await producer

            # The last start: it runs until everything is out (the deadline is a safety net only).
            await rig.spawn()

            def drained() -> bool:
                posted = {m["embeds"][0].get("url") for m in world.messages[recaps] if m["embeds"]}
                states = item_states(db_path)
                return posted >= set(links) and all(states.get(link, ("", None))[0] == "sent" for link in links)

            await rig.until(drained, "some items were still not posted", DRAIN_DEADLINE)
        finally:
            burst_over.set()
            producer.cancel()
            await rig.stop_children()

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
    rig.assert_clean()
    assert stats["kills after the first poll"] + stats["kills while starting"] == KILLS
    print(f"\n{len(links)} items, {len(rig.children)} starts, {rig.server.identifies} IDENTIFYs; {dict(stats)}")
    # The test is only worth its time if kills landed in the windows that matter.
    assert stats["kills between a claim and its post"] + stats["resends recognised by nonce"] > 0, dict(stats)
