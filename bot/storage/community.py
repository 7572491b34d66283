"""Community recaps: submitted by members, reviewed by moderators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.storage.database import Database


@dataclass(frozen=True)
class CommunityRecap:
    id: int
    guild_id: int
    drama: str
    episode: int
    author_id: int
    author_name: str
    title: str
    body: str
    state: str
    reason: str | None


def _recap(row: Any) -> CommunityRecap:
    return CommunityRecap(
        row["id"],
        row["guild_id"],
        row["drama"],
        row["episode"],
        row["author_id"],
        row["author_name"],
        row["title"],
        row["body"],
        row["state"],
        row["reason"],
    )


class CommunityRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def submit(
        self, guild_id: int, drama: str, episode: int, author_id: int, author_name: str, title: str, body: str
    ) -> int:
        return await self._db.insert(
            "INSERT INTO community_recaps (guild_id, drama, episode, author_id, author_name, title, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, drama, episode, author_id, author_name, title, body, self._db.now_ms()),
        )

    async def get(self, recap_id: int) -> CommunityRecap | None:
        row = await self._db.fetchone(
            "SELECT id, guild_id, drama, episode, author_id, author_name, title, body, state, reason "
            "FROM community_recaps WHERE id = ?",
            (recap_id,),
        )
        return _recap(row) if row else None

    async def next_pending(self, guild_id: int) -> tuple[CommunityRecap | None, int]:
        """The oldest waiting recap and how many wait in all."""
        row = await self._db.fetchone(
            "SELECT id, guild_id, drama, episode, author_id, author_name, title, body, state, reason "
            "FROM community_recaps WHERE guild_id = ? AND state = 'pending' ORDER BY id LIMIT 1",
            (guild_id,),
        )
        count = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM community_recaps WHERE guild_id = ? AND state = 'pending'", (guild_id,)
        )
        return (_recap(row) if row else None), int(count["n"]) if count else 0

    async def review(self, recap_id: int, state: str, reviewer_id: int, reason: str | None) -> bool:
        """Approve or reject a waiting recap; False if someone already did."""
        changed = await self._db.execute(
            "UPDATE community_recaps SET state = ?, reason = ?, reviewer_id = ?, reviewed_at = ? "
            "WHERE id = ? AND state = 'pending'",
            (state, reason, reviewer_id, self._db.now_ms(), recap_id),
        )
        return changed > 0

    async def approved_for(self, guild_id: int, drama: str, episode: int, limit: int = 3) -> list[CommunityRecap]:
        rows = await self._db.fetchall(
            "SELECT id, guild_id, drama, episode, author_id, author_name, title, body, state, reason "
            "FROM community_recaps WHERE guild_id = ? AND drama = ? AND episode = ? AND state = 'approved' "
            "ORDER BY reviewed_at LIMIT ?",
            (guild_id, drama, episode, limit),
        )
        return [_recap(r) for r in rows]

    async def unnotified(self, guild_id: int, author_id: int) -> list[CommunityRecap]:
        rows = await self._db.fetchall(
            "SELECT id, guild_id, drama, episode, author_id, author_name, title, body, state, reason "
            "FROM community_recaps WHERE guild_id = ? AND author_id = ? AND state != 'pending' "
            "AND author_notified = 0 ORDER BY id",
            (guild_id, author_id),
        )
        return [_recap(r) for r in rows]

    async def unheard_authors(self) -> set[tuple[int, int]]:
        """(server, author) of every reviewed recap whose author has not heard the outcome yet."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT guild_id, author_id FROM community_recaps WHERE state != 'pending' AND author_notified = 0"
        )
        return {(int(r["guild_id"]), int(r["author_id"])) for r in rows}

    async def claim_post(self, recap_id: int) -> bool:
        """Claim an approved recap's post (before sending it); False if it was claimed or sent already."""
        changed = await self._db.execute(
            "UPDATE community_recaps SET post_state = 'claimed' "
            "WHERE id = ? AND state = 'approved' AND post_state = ''",
            (recap_id,),
        )
        return changed > 0

    async def posted(self, recap_id: int, channel_id: int | None, message_id: int | None) -> None:
        """Record the post (or, with no channel, that there was nowhere to post it)."""
        await self._db.execute(
            "UPDATE community_recaps SET post_state = ?, post_channel_id = ?, post_message_id = ?, posted_at = ? "
            "WHERE id = ?",
            ("sent" if message_id else "nowhere", channel_id, message_id, self._db.now_ms(), recap_id),
        )

    async def claimed_posts(self) -> list[CommunityRecap]:
        """Approved recaps a stop left unposted — claimed but unrecorded, or approved and not yet
        claimed (a stop between the review and the claim): sent at start."""
        rows = await self._db.fetchall(
            "SELECT id, guild_id, drama, episode, author_id, author_name, title, body, state, reason "
            "FROM community_recaps WHERE state = 'approved' AND post_state IN ('', 'claimed') ORDER BY id"
        )
        return [_recap(r) for r in rows]

    async def claim_notice(self, recap_id: int) -> None:
        """Before the author's DM is sent: a retry after a stop looks for it first."""
        await self._db.execute("UPDATE community_recaps SET notice_state = 'dm' WHERE id = ?", (recap_id,))

    async def notice_claimed(self, recap_id: int) -> bool:
        row = await self._db.fetchone("SELECT notice_state FROM community_recaps WHERE id = ?", (recap_id,))
        return bool(row and row["notice_state"] == "dm")

    async def unnotified_dms(self) -> list[int]:
        """Reviews whose DM a stop may have cut short (claimed, not recorded): checked again at start."""
        rows = await self._db.fetchall(
            "SELECT id FROM community_recaps WHERE state != 'pending' AND author_notified = 0 AND notice_state = 'dm'"
        )
        return [int(r["id"]) for r in rows]

    async def notified(self, recap_id: int) -> None:
        await self._db.execute("UPDATE community_recaps SET author_notified = 1 WHERE id = ?", (recap_id,))
