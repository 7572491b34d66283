"""Follows, episode threads, index messages and ratings."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from bot.storage.database import Database


@dataclass(frozen=True)
class ThreadRow:
    guild_id: int
    drama: str
    episode: int
    parent_id: int
    thread_id: int | None
    starter_message_id: int | None
    announcement_id: int | None


@dataclass(frozen=True)
class RatingSummary:
    average: float
    votes: int


class FollowsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, guild_id: int, drama: str) -> bool:
        changed = await self._db.execute(
            "INSERT INTO follows (guild_id, drama, followed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (guild_id, drama, self._db.now_ms()),
        )
        return changed > 0

    async def remove(self, guild_id: int, drama: str) -> bool:
        return await self._db.execute("DELETE FROM follows WHERE guild_id = ? AND drama = ?", (guild_id, drama)) > 0

    async def list(self, guild_id: int) -> list[str]:
        rows = await self._db.fetchall("SELECT drama FROM follows WHERE guild_id = ? ORDER BY drama", (guild_id,))
        return [r["drama"] for r in rows]

    async def is_following(self, guild_id: int, drama: str) -> bool:
        row = await self._db.fetchone("SELECT 1 FROM follows WHERE guild_id = ? AND drama = ?", (guild_id, drama))
        return row is not None

    async def followers(self, drama: str) -> builtins.list[int]:
        """The servers that follow `drama`."""
        rows = await self._db.fetchall("SELECT guild_id FROM follows WHERE drama = ? ORDER BY guild_id", (drama,))
        return [r["guild_id"] for r in rows]

    async def all(self) -> builtins.list[tuple[int, str]]:
        rows = await self._db.fetchall("SELECT guild_id, drama FROM follows ORDER BY guild_id, drama")
        return [(r["guild_id"], r["drama"]) for r in rows]


def _thread(row: Any) -> ThreadRow:
    return ThreadRow(
        row["guild_id"],
        row["drama"],
        row["episode"],
        row["parent_id"],
        row["thread_id"],
        row["starter_message_id"],
        row["announcement_id"],
    )


class ThreadsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int, drama: str, episode: int) -> ThreadRow | None:
        row = await self._db.fetchone(
            "SELECT guild_id, drama, episode, parent_id, thread_id, starter_message_id, announcement_id "
            "FROM episode_threads WHERE guild_id = ? AND drama = ? AND episode = ?",
            (guild_id, drama, episode),
        )
        return _thread(row) if row else None

    async def for_drama(self, guild_id: int, drama: str) -> dict[int, ThreadRow]:
        rows = await self._db.fetchall(
            "SELECT guild_id, drama, episode, parent_id, thread_id, starter_message_id, announcement_id "
            "FROM episode_threads WHERE guild_id = ? AND drama = ? AND thread_id IS NOT NULL ORDER BY episode",
            (guild_id, drama),
        )
        return {r["episode"]: _thread(r) for r in rows}

    async def claim(self, guild_id: int, drama: str, episode: int, parent_id: int) -> None:
        """Record that the thread is being opened (before any Discord call)."""
        await self._db.execute(
            "INSERT INTO episode_threads (guild_id, drama, episode, parent_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id, drama, episode) DO UPDATE SET parent_id = excluded.parent_id "
            "WHERE episode_threads.thread_id IS NULL",
            (guild_id, drama, episode, parent_id),
        )

    async def set_thread(self, guild_id: int, drama: str, episode: int, thread_id: int) -> None:
        await self._db.execute(
            "UPDATE episode_threads SET thread_id = ?, opened_at = ? WHERE guild_id = ? AND drama = ? AND episode = ?",
            (thread_id, self._db.now_ms(), guild_id, drama, episode),
        )

    async def set_messages(
        self, guild_id: int, drama: str, episode: int, *, starter: int | None = None, announcement: int | None = None
    ) -> None:
        await self._db.execute(
            "UPDATE episode_threads SET starter_message_id = COALESCE(?, starter_message_id), "
            "announcement_id = COALESCE(?, announcement_id) WHERE guild_id = ? AND drama = ? AND episode = ?",
            (starter, announcement, guild_id, drama, episode),
        )

    async def by_thread(self, thread_id: int) -> ThreadRow | None:
        row = await self._db.fetchone(
            "SELECT guild_id, drama, episode, parent_id, thread_id, starter_message_id, announcement_id "
            "FROM episode_threads WHERE thread_id = ?",
            (thread_id,),
        )
        return _thread(row) if row else None

    async def forget(self, guild_id: int, drama: str, episode: int) -> None:
        """The thread is gone on Discord (deleted): the next request opens a new one."""
        await self._db.execute(
            "DELETE FROM episode_threads WHERE guild_id = ? AND drama = ? AND episode = ?", (guild_id, drama, episode)
        )


class IndexRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int, drama: str) -> tuple[int, int] | None:
        row = await self._db.fetchone(
            "SELECT channel_id, message_id FROM drama_index WHERE guild_id = ? AND drama = ?", (guild_id, drama)
        )
        return (row["channel_id"], row["message_id"]) if row else None

    async def set(self, guild_id: int, drama: str, channel_id: int, message_id: int) -> None:
        await self._db.execute(
            "INSERT INTO drama_index (guild_id, drama, channel_id, message_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id, drama) DO UPDATE SET channel_id = excluded.channel_id, "
            "message_id = excluded.message_id",
            (guild_id, drama, channel_id, message_id),
        )


class RatingsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def vote(self, guild_id: int, drama: str, episode: int, user_id: int, stars: int) -> None:
        """One changeable vote per member and episode."""
        await self._db.execute(
            "INSERT INTO ratings (guild_id, drama, episode, user_id, stars, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, drama, episode, user_id) DO UPDATE SET stars = excluded.stars, "
            "updated_at = excluded.updated_at",
            (guild_id, drama, episode, user_id, stars, self._db.now_ms()),
        )

    async def summary(self, guild_id: int, drama: str, episode: int) -> RatingSummary:
        row = await self._db.fetchone(
            "SELECT AVG(stars) AS average, COUNT(*) AS votes FROM ratings WHERE guild_id = ? AND drama = ? "
            "AND episode = ?",
            (guild_id, drama, episode),
        )
        return RatingSummary(float(row["average"] or 0), int(row["votes"] or 0)) if row else RatingSummary(0, 0)

    async def summaries(self, guild_id: int, drama: str) -> dict[int, RatingSummary]:
        rows = await self._db.fetchall(
            "SELECT episode, AVG(stars) AS average, COUNT(*) AS votes FROM ratings WHERE guild_id = ? AND drama = ? "
            "GROUP BY episode",
            (guild_id, drama),
        )
        return {r["episode"]: RatingSummary(float(r["average"]), int(r["votes"])) for r in rows}
