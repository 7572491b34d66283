"""/help: every command, grouped, one line each; moderator commands on their own page."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.client import Dramawatch, Interaction
from bot.ui.help import HelpSection, help_page


class Help(commands.Cog):
    help_section = HelpSection("General", 60)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Dramawatch can do: every command, one line each.")
    async def help(self, interaction: Interaction) -> None:
        embed, view = await help_page(interaction, "everyone")
        if view is None:
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(Help(bot))
