"""Members' progress: the last episode each member has watched, per drama, per server."""

from __future__ import annotations

from collections import OrderedDict

from bot.storage.database import Database

_Member = tuple[int, int]  # (server, member)


class ProgressRepo:
    """A member's progress is read whole (every drama at once, a handful of rows) and kept in a
    bounded memory of the most recent members, written through by this repository's own writes: the
    only writer of the table while the bot runs, so what is remembered is what is stored. Every
    /who card and spoiler check after a member's first then costs no database trip."""

    REMEMBERED = 20_000  # members kept, the least recently used dropped first

    def __init__(self, db: Database) -> None:
        self._db = db
        self._recent: OrderedDict[_Member, dict[str, int]] = OrderedDict()

    async def get(self, guild_id: int, user_id: int, drama: str) -> int:
        """The last watched episode; 0 when the member has set nothing."""
        member = (guild_id, user_id)
        known = self._recent.get(member)
        if known is None:
            known = await self._read(guild_id, user_id)
            self._recent[member] = known
            if len(self._recent) > self.REMEMBERED:
                self._recent.popitem(last=False)
        self._recent.move_to_end(member)
        return known.get(drama, 0)

    async def _read(self, guild_id: int, user_id: int) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT drama, episode FROM progress WHERE guild_id = ? AND user_id = ? ORDER BY drama",
            (guild_id, user_id),
        )
        return {r["drama"]: int(r["episode"]) for r in rows}

    async def all(self, guild_id: int, user_id: int) -> dict[str, int]:
        return await self._read(guild_id, user_id)  # a fresh read, never the kept dict

    async def set(self, guild_id: int, user_id: int, drama: str, episode: int) -> None:
        await self._db.execute(
            "INSERT INTO progress (guild_id, user_id, drama, episode, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, user_id, drama) DO UPDATE SET episode = excluded.episode, "
            "updated_at = excluded.updated_at",
            (guild_id, user_id, drama, episode, self._db.now_ms()),
        )
        if (known := self._recent.get((guild_id, user_id))) is not None:
            known[drama] = episode

    async def clear(self, guild_id: int, user_id: int, drama: str) -> bool:
        changed = await self._db.execute(
            "DELETE FROM progress WHERE guild_id = ? AND user_id = ? AND drama = ?", (guild_id, user_id, drama)
        )
        if (known := self._recent.get((guild_id, user_id))) is not None:
            known.pop(drama, None)
        return changed > 0
