"""Telling a server's moderators about a problem the bot can't fix itself (a missing permission,
a disabled feed …): in the mods channel, at most once every few hours per problem, never raising."""

from __future__ import annotations

import logging
import time

import discord

from bot.server_settings import ServerSettings
from bot.service import Service

log = logging.getLogger(__name__)

NOTICE_EVERY = 6 * 3600  # seconds between repeats of the same warning to moderators


class ModNotices(Service):
    def __init__(self, server_settings: ServerSettings) -> None:
        self._settings = server_settings
        self._last: dict[tuple[int, str], float] = {}

    async def notify(self, guild: discord.Guild, key: str, text: str) -> None:
        """Warn the moderators of `guild` about the problem `key` (repeats within hours are dropped)."""
        now = time.monotonic()
        last = self._last.get((guild.id, key))
        if last is not None and now - last < NOTICE_EVERY:
            return
        self._last[(guild.id, key)] = now
        settings = await self._settings.get(guild.id)
        channel = guild.get_channel(settings.mods_channel_id) if settings.mods_channel_id else None
        log.warning("guild %s: %s", guild.id, text)
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            await channel.send(f"⚠️ {text}")
        except discord.HTTPException as exc:
            log.warning("could not warn the moderators of guild %s: %s", guild.id, exc)
