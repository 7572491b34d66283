"""Per-server settings: defaults declared once here; a server with no rows reads the defaults.

Stored as key/value rows (JSON values), so a new setting is a new field below, not a migration.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from bot.storage.database import Database

CHANNEL_KINDS = ("recaps", "discussions", "announcements", "mods")


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    timezone: str = "UTC"
    mod_role_id: int | None = None
    host_role_id: int | None = None  # members with it may schedule and manage their own watch parties
    recaps_channel_id: int | None = None
    discussions_channel_id: int | None = None
    announcements_channel_id: int | None = None
    mods_channel_id: int | None = None
    thread_archive_minutes: int = 1440  # Discord allows 60, 1440, 4320, 10080
    members_open_threads: bool = True  # members may open an aired episode's thread with /discuss
    reminders: str = "1h"  # default watch party reminders, e.g. "1d,1h,10m"
    feed_interval_minutes: int = 15  # how often feeds are polled (at least 5)

    def channel_id(self, kind: str) -> int | None:
        if kind not in CHANNEL_KINDS:
            raise KeyError(kind)
        value: int | None = getattr(self, f"{kind}_channel_id")
        return value


_FIELDS = {f.name: f for f in dataclasses.fields(GuildSettings) if f.name != "guild_id"}


def setting_names() -> list[str]:
    return list(_FIELDS)


class GuildSettingsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[int, GuildSettings] = {}

    async def get(self, guild_id: int) -> GuildSettings:
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        rows = await self._db.fetchall("SELECT key, value FROM guild_settings WHERE guild_id = ?", (guild_id,))
        stored = {row["key"]: json.loads(row["value"]) for row in rows if row["key"] in _FIELDS}
        settings = GuildSettings(guild_id=guild_id, **stored)
        self._cache[guild_id] = settings
        return settings

    async def update(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Set fields; a value of None resets that field to its default."""
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            raise KeyError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        now = self._db.now_ms()
        async with self._db.transaction():
            for key, value in changes.items():
                if value is None or value == _FIELDS[key].default:
                    await self._db.execute("DELETE FROM guild_settings WHERE guild_id = ? AND key = ?", (guild_id, key))
                else:
                    await self._db.execute(
                        "INSERT INTO guild_settings (guild_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (guild_id, key) DO UPDATE SET value = excluded.value, "
                        "updated_at = excluded.updated_at",
                        (guild_id, key, json.dumps(value), now),
                    )
        self._cache.pop(guild_id, None)
        return await self.get(guild_id)
