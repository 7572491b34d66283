"""Members' progress: the last episode each member has watched, per drama, per server."""

from __future__ import annotations

from bot.storage.database import Database


class ProgressRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int, user_id: int, drama: str) -> int:
        """The last watched episode; 0 when the member has set nothing."""
        row = await self._db.fetchone(
            "SELECT episode FROM progress WHERE guild_id = ? AND user_id = ? AND drama = ?",
            (guild_id, user_id, drama),
        )
        return int(row["episode"]) if row else 0

    async def all(self, guild_id: int, user_id: int) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT drama, episode FROM progress WHERE guild_id = ? AND user_id = ? ORDER BY drama",
            (guild_id, user_id),
        )
        return {r["drama"]: int(r["episode"]) for r in rows}

    async def set(self, guild_id: int, user_id: int, drama: str, episode: int) -> None:
        await self._db.execute(
            "INSERT INTO progress (guild_id, user_id, drama, episode, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, user_id, drama) DO UPDATE SET episode = excluded.episode, "
            "updated_at = excluded.updated_at",
            (guild_id, user_id, drama, episode, self._db.now_ms()),
        )

    async def clear(self, guild_id: int, user_id: int, drama: str) -> bool:
        changed = await self._db.execute(
            "DELETE FROM progress WHERE guild_id = ? AND user_id = ? AND drama = ?", (guild_id, user_id, drama)
        )
        return changed > 0
