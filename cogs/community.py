"""/recaps submit (everyone) and /recaps review (moderators): community recaps."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.ui.community import ReviewButton, SubmitRecapModal
from cogs._autocomplete import drama_choices, episode_choices


@app_commands.guild_only()
class Recaps(commands.GroupCog, group_name="recaps", group_description="Community recaps: write one, or review them."):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ReviewButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ReviewButton)

    @app_commands.command(name="submit", description="Write a recap of an episode; moderators review it.")
    @app_commands.describe(drama="The drama (start typing its name)", episode="The episode number")
    @app_commands.autocomplete(drama=drama_choices, episode=episode_choices)
    async def submit(
        self,
        interaction: discord.Interaction[Any],
        drama: app_commands.Range[str, 1, 100],
        episode: app_commands.Range[int, 1, 9999],
    ) -> None:
        found = self.bot.lookups.drama(drama).drama
        ep = self.bot.lookups.episode(found, episode)
        await interaction.response.send_modal(SubmitRecapModal(found, ep.number))

    @app_commands.command(name="review", description="Review submitted recaps, one at a time (moderators).")
    @moderator_only()
    async def review(self, interaction: discord.Interaction[Any]) -> None:
        await self.bot.community.show_queue(interaction, edit=False)

    @commands.Cog.listener()
    async def on_app_command_completion(self, interaction: discord.Interaction[Any], command: Any) -> None:
        if interaction.response.is_done():
            await self.bot.community.pending_notices(interaction)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Recaps(bot))
