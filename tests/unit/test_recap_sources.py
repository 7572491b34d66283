"""RecapSourcesRepo: `/recap`'s one read equals what the four repositories it replaces return."""

from __future__ import annotations

import random

from bot.storage import Database
from bot.storage.community import CommunityRepo
from bot.storage.discussions import ThreadsRepo
from bot.storage.feeds import RecapLinksRepo, RecapSourcesRepo
from bot.storage.progress import ProgressRepo

GUILDS = (1, 2)
DRAMAS = ("queen-of-tears", "lovely-runner")


async def fill(db: Database) -> None:
    rng = random.Random(7)
    progress, threads, links, community = ProgressRepo(db), ThreadsRepo(db), RecapLinksRepo(db), CommunityRepo(db)
    for guild in GUILDS:
        for drama in DRAMAS:
            for user in (10, 11):
                if rng.random() < 0.7:
                    await progress.set(guild, user, drama, rng.randint(0, 16))
            for episode in range(1, 6):
                if rng.random() < 0.6:
                    await threads.claim(guild, drama, episode, 500)
                    if rng.random() < 0.8:  # some are still being opened (no thread id yet)
                        await threads.set_thread(guild, drama, episode, 9000 + episode)
                for n in range(rng.randint(0, 13)):  # more than the 10 shown, sometimes
                    await links.add(guild, drama, episode, f"http://x.test/{guild}/{drama}/{episode}/{n}", f"t{n}", "s")
                for n in range(rng.randint(0, 5)):
                    recap_id = await community.submit(guild, drama, episode, 20 + n, f"fan{n}", f"title{n}", "body")
                    state = rng.choice(["approved", "approved", "rejected", "pending"])
                    if state != "pending":
                        await community.review(recap_id, state, 1, None if state == "approved" else "no")


async def test_one_read_equals_the_four_it_replaces(db: Database) -> None:
    await fill(db)
    sources = RecapSourcesRepo(db)
    progress, threads, links, community = ProgressRepo(db), ThreadsRepo(db), RecapLinksRepo(db), CommunityRepo(db)
    for guild in (*GUILDS, 3):
        for drama in DRAMAS:
            for user in (10, 11, 12):
                for episode in range(1, 7):
                    got = await sources.for_episode(guild, user, drama, episode)
                    assert got.watched == await progress.get(guild, user, drama)
                    rows = await threads.for_drama(guild, drama)
                    assert got.threads == {n: r.thread_id for n, r in rows.items() if r.thread_id}
                    assert got.links == await links.for_episode(guild, drama, episode)
                    assert got.community == await community.approved_for(guild, drama, episode)
