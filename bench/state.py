"""The state of 10,000 servers, as the running bot's database would hold it: every bench starts from it.

One of the servers is the sandbox's own guild (the sandbox has one guild; the other 9,999 are rows the
bot's queries and start-up have to live with). Per server: settings (time zone, moderator role,
channels), members' progress, three followed dramas with their episode threads and pinned index,
recap links matched from feeds, an approved community recap, one recap feed with ten items seen, one
watch party with five RSVPs; and the pending jobs those imply: a poll per feed, a reminder and a start
per party, and thread openings — 100,000 pending jobs in all. The sandbox guild is a big server: it
follows `SANDBOX_FOLLOWS` dramas with a thread, two recap links and (every third episode) an approved
community recap per episode, and `manifest` says exactly what it holds so `/recap` answers can be
checked.

Times are laid out from BASE (the sandbox benches' clock); `shift_jobs` moves the pending jobs for a
bench on the system clock. Built once per (size, catalog) and copied from a cache in the temp folder.

    python bench/state.py [--servers 10000]   # build (or find) the cached database and print its sizes
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.storage import Database  # noqa: E402

BASE = datetime(2026, 11, 27, tzinfo=UTC)
BASE_MS = int(BASE.timestamp() * 1000)
SANDBOX_GUILD = 1100000000000000002  # bot/sandbox/world.py
SANDBOX_FOLLOWS = 100
FIRST_GUILD = 1200000000000000000
VERSION = 6  # bump when the layout changes (the cache key)
MINUTE = 60_000
DAY = 86_400_000


def guild_ids(servers: int) -> list[int]:
    return [SANDBOX_GUILD] + [FIRST_GUILD + i for i in range(servers - 1)]


def cache_path(servers: int, dramas: list[tuple[str, int]]) -> Path:
    key = hashlib.sha1(json.dumps([VERSION, servers, dramas]).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / "dramawatch-bench-state"
    folder.mkdir(exist_ok=True)
    return folder / f"state-{servers}-{key}.db"


async def build(path: Path, servers: int, dramas: list[tuple[str, int]]) -> dict[str, Any]:
    """Fill a fresh database at `path`; returns the manifest (row counts, the sandbox guild's state)."""
    rng = random.Random(1234)
    db = await Database.open(path)
    now = BASE_MS
    rows: dict[str, list[tuple[Any, ...]]] = {
        k: []
        for k in (
            "settings",
            "progress",
            "follows",
            "threads",
            "index",
            "links",
            "community",
            "feeds",
            "items",
            "parties",
            "rsvps",
            "jobs",
        )
    }
    manifest: dict[str, Any] = {"sandbox_guild": SANDBOX_GUILD, "episodes": {}}
    try:
        await db.migrate()
        feed_id = party_id = recap_id = 0
        thread_id = 1500000000000000000
        for n, guild in enumerate(guild_ids(servers)):
            channel = 1400000000000000000 + n * 10
            rows["settings"] += [
                (guild, "timezone", json.dumps("Asia/Seoul" if n % 3 else "America/New_York"), now),
                (guild, "mod_role_id", json.dumps(1300000000000000000 + n), now),
            ]
            for k, kind in enumerate(("recaps", "discussions", "announcements", "mods")):
                if guild == SANDBOX_GUILD or rng.random() < 0.7:
                    if guild != SANDBOX_GUILD:  # the sandbox's own channels are set by the benches that need them
                        rows["settings"].append((guild, f"{kind}_channel_id", json.dumps(channel + k), now))
            follows = rng.sample(dramas, min(len(dramas), SANDBOX_FOLLOWS if guild == SANDBOX_GUILD else 3))
            for slug, episodes in follows:
                rows["follows"].append((guild, slug, now))
                rows["index"].append((guild, slug, channel + 1, channel + 5))
                shown = range(1, episodes + 1) if guild == SANDBOX_GUILD else range(1, min(episodes, 4) + 1)
                for episode in shown:
                    thread_id += 1
                    rows["threads"].append((guild, slug, episode, channel + 1, thread_id, thread_id, None, now))
                    links = []
                    for j in range(2 if guild == SANDBOX_GUILD else rng.randint(0, 1)):
                        url = f"http://recaps.example/{guild}/{slug}/{episode}/{j}"
                        title = f"{slug} episode {episode} recap {j}"
                        rows["links"].append((guild, slug, episode, url, title, "Example Recaps", now + j))
                        links.append(url)
                    titles = []
                    if guild == SANDBOX_GUILD and episode % 3 == 0:
                        recap_id += 1
                        title = f"Fan recap {recap_id}"
                        rows["community"].append(
                            (recap_id, guild, slug, episode, 1100000000000000101, "alice", title, "What happened.",
                             "approved", None, 1, now, now + recap_id, 1)
                        )  # fmt: skip
                        titles.append(title)
                    if guild == SANDBOX_GUILD:
                        manifest["episodes"][f"{slug}:{episode}"] = {
                            "thread": thread_id,
                            "links": links,
                            "community": titles,
                        }
            if guild != SANDBOX_GUILD:
                recap_id += 1
                slug, episodes = follows[0]
                rows["community"].append(
                    (recap_id, guild, slug, 1, 1500000000000000000 + n, f"fan{n}", "A recap", "Text.", "approved",
                     None, 1, now, now, 1)
                )  # fmt: skip
            for member in range(10):
                user = 1600000000000000000 + n * 10 + member
                for slug, episodes in rng.sample(follows, 1):
                    rows["progress"].append((guild, user, slug, rng.randint(0, episodes), now))
            # one recap feed, primed, ten items seen, polled every 15 minutes
            feed_id += 1
            next_poll = now + rng.randint(1, 15) * MINUTE
            rows["feeds"].append(
                (feed_id, guild, f"http://127.0.0.1:9/feed{feed_id}.xml", channel, f"Feed {feed_id}",
                 f'"{feed_id}"', "active", 1, now, next_poll, 1500000000000000000 + n, now)
            )  # fmt: skip
            for j in range(10):
                key = f"http://recaps.example/feed{feed_id}/{j}"
                rows["items"].append((feed_id, key, "seen", f"Item {j}", key, "", now - j * DAY))
            rows["jobs"].append(("feed.poll", json.dumps({"feed_id": feed_id}), next_poll, f"feed:{feed_id}"))
            # one watch party, five going
            if guild != SANDBOX_GUILD:
                party_id += 1
                slug, episodes = follows[0]
                start = now + rng.randint(1, 30) * DAY
                rows["parties"].append(
                    (party_id, guild, slug, 1, 1, start, start + 60 * MINUTE, "Asia/Seoul", None, "Online", "none",
                     "60", "", None, channel + 2, channel + 7, "scheduled", 1500000000000000000 + n, now)
                )  # fmt: skip
                for member in range(5):
                    rows["rsvps"].append((party_id, 1600000000000000000 + n * 10 + member, "going", now))
                rows["jobs"].append(
                    (
                        "party.remind",
                        json.dumps({"minutes": 60, "party_id": party_id}, sort_keys=True),
                        start - 60 * MINUTE,
                        f"party:{party_id}:remind:60",
                    )
                )
                rows["jobs"].append(
                    ("party.start", json.dumps({"party_id": party_id}), start, f"party:{party_id}:start")
                )
        # the remaining pending jobs (to 100,000): thread openings spread over the next 60 days
        made = 0
        guilds = guild_ids(servers)
        wanted = 100_000 - len(rows["jobs"])
        while made < wanted:
            guild = guilds[made % servers]
            slug, _ = dramas[made % len(dramas)]
            episode = 100 + made // servers  # beyond every catalog episode: the reconcile at start leaves them
            payload = json.dumps({"drama": slug, "episode": episode, "guild_id": guild}, sort_keys=True)
            due = now + rng.randint(1, 60 * 24 * 60) * MINUTE
            rows["jobs"].append(("thread.open", payload, due, f"thread:{guild}:{slug}:{episode}"))
            made += 1
        async with db.transaction():
            await db.executemany(
                "INSERT INTO guild_settings (guild_id, key, value, updated_at) VALUES (?, ?, ?, ?)", rows["settings"]
            )
            await db.executemany(
                "INSERT OR IGNORE INTO progress (guild_id, user_id, drama, episode, updated_at) VALUES (?, ?, ?, ?, ?)",
                rows["progress"],
            )
            await db.executemany("INSERT INTO follows (guild_id, drama, followed_at) VALUES (?, ?, ?)", rows["follows"])
            await db.executemany(
                "INSERT INTO episode_threads (guild_id, drama, episode, parent_id, thread_id, starter_message_id, "
                "announcement_id, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows["threads"],
            )
            await db.executemany(
                "INSERT INTO drama_index (guild_id, drama, channel_id, message_id) VALUES (?, ?, ?, ?)", rows["index"]
            )
            await db.executemany(
                "INSERT INTO recap_links (guild_id, drama, episode, url, title, source, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows["links"],
            )
            await db.executemany(
                "INSERT INTO community_recaps (id, guild_id, drama, episode, author_id, author_name, title, body, "
                "state, reason, reviewer_id, created_at, reviewed_at, author_notified) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows["community"],
            )
            # Posted, as the bot leaves every approved recap (a start posts only those a crash left unposted).
            await db.execute(
                "UPDATE community_recaps SET post_state = 'sent', post_channel_id = guild_id, "
                "post_message_id = 1700000000000000000 + id, posted_at = reviewed_at WHERE state = 'approved'"
            )
            await db.executemany(
                "INSERT INTO feeds (id, guild_id, url, channel_id, title, etag, state, primed, last_success, "
                "next_poll, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows["feeds"],
            )
            await db.executemany(
                "INSERT INTO feed_items (feed_id, item_key, state, title, link, excerpt, published) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows["items"],
            )
            await db.executemany(
                "INSERT INTO watch_parties (id, guild_id, drama, first_episode, last_episode, start_at, end_at, "
                "timezone, channel_id, location, repeat, reminders, note, event_id, announce_channel, "
                "announcement_id, state, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?)",
                rows["parties"],
            )
            await db.executemany(
                "INSERT INTO rsvps (party_id, user_id, status, updated_at) VALUES (?, ?, ?, ?)", rows["rsvps"]
            )
            # The announcements show these counts (as after the bot's own edits): nothing stale at start.
            await db.execute("UPDATE rsvp_versions SET shown = written")
            await db.executemany(
                "INSERT INTO jobs (kind, payload, due_at, state, dedupe_key, created_at, updated_at) "
                "VALUES (?, ?, ?, 'pending', ?, 0, 0)",
                rows["jobs"],
            )
        await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.close()
    manifest["rows"] = {k: len(v) for k, v in rows.items()}
    manifest["servers"] = servers
    return manifest


async def state_copy(destination: Path, dramas: list[tuple[str, int]], servers: int = 10_000) -> dict[str, Any]:
    """A fresh copy of the cached state at `destination` (built first if needed); returns its manifest."""
    cached = cache_path(servers, dramas)
    manifest_file = cached.with_suffix(".json")
    if not await asyncio.to_thread(lambda: cached.exists() and manifest_file.exists()):
        started = time.perf_counter()
        partial = cached.with_suffix(".partial")
        await asyncio.to_thread(partial.unlink, missing_ok=True)
        manifest = await build(partial, servers, dramas)
        await asyncio.to_thread(partial.replace, cached)
        await asyncio.to_thread(manifest_file.write_text, json.dumps(manifest))
        print(f"[state] built {servers:,} servers in {time.perf_counter() - started:.1f} s: {cached}", file=sys.stderr)
    return await asyncio.to_thread(_copy, cached, manifest_file, destination)


def _copy(cached: Path, manifest_file: Path, destination: Path) -> dict[str, Any]:
    for suffix in ("-wal", "-shm"):
        Path(str(destination) + suffix).unlink(missing_ok=True)
    shutil.copyfile(cached, destination)
    manifest: dict[str, Any] = json.loads(manifest_file.read_text())
    manifest["mb"] = round(destination.stat().st_size / 1e6, 1)
    return manifest


async def shift_jobs(path: Path, to_ms: int) -> None:
    """Move the state's future by (to_ms − BASE) — pending jobs, feeds' next polls, parties — for a bot
    on another clock (the system clock)."""
    delta = to_ms - BASE_MS
    db = await Database.open(path)
    try:
        async with db.transaction():
            await db.execute("UPDATE jobs SET due_at = due_at + ? WHERE state = 'pending'", (delta,))
            await db.execute("UPDATE feeds SET next_poll = next_poll + ? WHERE next_poll IS NOT NULL", (delta,))
            await db.execute("UPDATE watch_parties SET start_at = start_at + ?, end_at = end_at + ?", (delta, delta))
    finally:
        await db.close()


def shipped_dramas() -> list[tuple[str, int]]:
    """(slug, episodes) of the catalog shipped in data/packs (what the sandbox bot loads by default)."""
    from bot.client import load_index
    from bot.settings import Settings

    catalog, _ = load_index(Settings())
    return [(d.slug, d.episode_count) for d in catalog.dramas.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = asyncio.run(state_copy(Path(tmp) / "state.db", shipped_dramas(), args.servers))
    print(json.dumps({k: v for k, v in manifest.items() if k != "episodes"}))


if __name__ == "__main__":
    main()
