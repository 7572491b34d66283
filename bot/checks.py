"""The moderator check shared by every moderator command.

A moderator has Manage Server (or Administrator), or the server's configured moderator role.
Moderator commands also carry ``default_permissions(manage_guild=True)`` (see
:data:`MODERATOR_DEFAULT_PERMISSIONS`) so Discord hides them from everyone else; a server can
show them to its moderator role under Server Settings → Integrations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

from bot.errors import GuildOnly, NotModerator, UserError

if TYPE_CHECKING:
    from bot.client import Interaction

T = TypeVar("T")

MODERATOR_DEFAULT_PERMISSIONS = discord.Permissions(manage_guild=True)


def is_moderator(permissions: discord.Permissions, role_ids: Iterable[int], mod_role_id: int | None) -> bool:
    if permissions.administrator or permissions.manage_guild:
        return True
    return mod_role_id is not None and mod_role_id in set(role_ids)


async def check_moderator(interaction: Interaction) -> bool:
    """The app-command check behind `moderator_only` (the test itself: ServerSettings.is_moderator)."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        raise GuildOnly()
    if not await interaction.client.server_settings.is_moderator(interaction):
        raise NotModerator()
    return True


class NotHost(NotModerator):
    def __init__(self) -> None:
        UserError.__init__(
            self,
            "Watch parties are scheduled by moderators and by members with the server's host role "
            "(`/settings hostrole`).",
        )


async def check_host(interaction: Interaction) -> bool:
    """Moderators, or members with the host role; records which in `interaction.extras["moderator"]`."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        raise GuildOnly()
    settings = interaction.client.server_settings
    moderator = await settings.is_moderator(interaction)
    interaction.extras["moderator"] = moderator
    if not (moderator or await settings.is_host(interaction)):
        raise NotHost()
    return True


def host_or_moderator() -> Callable[[T], T]:
    """Decorator for watch party commands: moderators, and hosts for their own parties."""
    return app_commands.check(check_host)


def moderator_only() -> Callable[[T], T]:
    """Decorator for a moderator command or subcommand."""
    return app_commands.check(check_moderator)
