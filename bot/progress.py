"""Members' progress per drama: the spoiler shield."""

from __future__ import annotations

from bot.catalog import Drama
from bot.service import Service
from bot.storage.database import Database
from bot.storage.progress import ProgressRepo


class Progress(Service):
    def __init__(self, db: Database) -> None:
        self._repo = ProgressRepo(db)

    async def watched(self, guild_id: int | None, user_id: int, drama: str) -> int:
        """The last episode the member has watched (0 outside a server or when unset)."""
        if guild_id is None:
            return 0
        return await self._repo.get(guild_id, user_id, drama)

    async def set(self, guild_id: int, user_id: int, drama: Drama, episode: int) -> None:
        await self._repo.set(guild_id, user_id, drama.slug, episode)

    async def all(self, guild_id: int, user_id: int) -> dict[str, int]:
        return await self._repo.all(guild_id, user_id)

    async def clear(self, guild_id: int, user_id: int, drama: Drama) -> bool:
        return await self._repo.clear(guild_id, user_id, drama.slug)
