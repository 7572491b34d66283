"""/setup: channels, roles and time zone in one guided flow; the welcome when the bot joins."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import MODERATOR_DEFAULT_PERMISSIONS, moderator_only
from bot.client import Dramawatch, Interaction
from bot.ui.help import HelpSection
from bot.ui.setup import show


class Setup(commands.Cog):
    help_section = HelpSection("Server settings", 70)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(name="setup", description="Set Dramawatch up: channels, roles, time zone, permissions.")
    @app_commands.guild_only()
    @app_commands.default_permissions(MODERATOR_DEFAULT_PERMISSIONS)
    @moderator_only()
    async def setup_(self, interaction: Interaction) -> None:
        await show(interaction, "channels", edit=False)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.bot.guild_setup.welcome(guild)


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(Setup(bot))
