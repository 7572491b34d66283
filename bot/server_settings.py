"""Per-server settings as a service: read with defaults, change, and the one moderator check."""

from __future__ import annotations

from typing import Any

import discord

from bot.checks import is_moderator
from bot.service import Service
from bot.storage.database import Database
from bot.storage.guild_settings import GuildSettings, GuildSettingsRepo


class ServerSettings(Service):
    def __init__(self, db: Database) -> None:
        self._repo = GuildSettingsRepo(db)

    async def get(self, guild_id: int) -> GuildSettings:
        return await self._repo.get(guild_id)

    async def update(self, guild_id: int, **changes: Any) -> GuildSettings:
        return await self._repo.update(guild_id, **changes)

    async def is_host(self, interaction: discord.Interaction[Any]) -> bool:
        """A member with the server's watch party host role (`/settings hostrole`)."""
        if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
            return False
        settings = await self._repo.get(interaction.guild_id)
        return settings.host_role_id is not None and any(r.id == settings.host_role_id for r in interaction.user.roles)

    async def is_moderator(self, interaction: discord.Interaction[Any]) -> bool:
        """Manage Server, Administrator, or the server's moderator role. The only moderator check."""
        if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
            return False
        settings = await self._repo.get(interaction.guild_id)
        return is_moderator(interaction.permissions, [role.id for role in interaction.user.roles], settings.mod_role_id)
