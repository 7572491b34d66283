"""/recaps submit (everyone) and /recaps review (moderators): community recaps."""

from __future__ import annotations

from typing import Any

from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import Dramawatch, Interaction
from bot.ui.community import SubmitRecapModal
from bot.ui.help import HelpSection
from cogs._autocomplete import drama_choices, episode_choices


@app_commands.guild_only()
class Recaps(commands.GroupCog, group_name="recaps", group_description="Community recaps: write one, or review them."):
    help_section = HelpSection("Community recaps", 50)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(name="submit", description="Write a recap of an episode; moderators review it.")
    @app_commands.describe(drama="The drama (start typing its name)", episode="The episode number")
    @app_commands.autocomplete(drama=drama_choices)
    @app_commands.autocomplete(episode=episode_choices)
    async def submit(
        self,
        interaction: Interaction,
        drama: app_commands.Range[str, 1, 100],
        episode: app_commands.Range[int, 1, 9999],
    ) -> None:
        found = self.bot.lookups.drama(drama).drama
        ep = self.bot.lookups.episode(found, episode)
        await interaction.response.send_modal(SubmitRecapModal(found, ep.number, owner_id=interaction.user.id))

    @app_commands.command(name="review", description="Review submitted recaps, one at a time (moderators).")
    @moderator_only()
    async def review(self, interaction: Interaction) -> None:
        await self.bot.community.show_queue(interaction, edit=False)

    @commands.Cog.listener()
    async def on_app_command_completion(self, interaction: Interaction, command: Any) -> None:
        if interaction.response.is_done():
            await self.bot.community.pending_notices(interaction)


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(Recaps(bot))
