"""/progress set|show|clear: each member's watched episode per drama — the spoiler shield."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.client import Dramawatch, Interaction
from bot.errors import GuildOnly
from bot.ui.catalog import progress_embed
from bot.ui.help import HelpSection
from cogs._autocomplete import drama_choices, episode_choices


def _guild(interaction: Interaction) -> int:
    if interaction.guild_id is None:
        raise GuildOnly()
    return interaction.guild_id


@app_commands.guild_only()
class Progress(
    commands.GroupCog, group_name="progress", group_description="Your watched episodes: the spoiler shield."
):
    help_section = HelpSection("Your progress (spoiler shield)", 20)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(name="set", description="Set the last episode you've watched of a drama.")
    @app_commands.describe(drama="The drama (start typing its name)", episode="The last episode you've watched")
    @app_commands.autocomplete(drama=drama_choices)
    @app_commands.autocomplete(episode=episode_choices)
    async def set_(
        self,
        interaction: Interaction,
        drama: app_commands.Range[str, 1, 100],
        episode: app_commands.Range[int, 0, 9999],
    ) -> None:
        found = self.bot.lookups.drama(drama).drama
        if episode:
            self.bot.lookups.episode(found, episode)  # refuses numbers outside 1..N, naming the range
        await self.bot.progress.set(_guild(interaction), interaction.user.id, found, episode)
        text = (
            f"Saved: you've watched **{found.title}** up to episode {episode} of {found.episode_count}. "
            "`/recap` and `/who` with `private:True` now show you those episodes without spoiler bars."
            if episode
            else f"Saved: you haven't started **{found.title}** yet; everything stays behind spoiler bars."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="show", description="What you've watched, per drama.")
    async def show(self, interaction: Interaction) -> None:
        progress = await self.bot.progress.all(_guild(interaction), interaction.user.id)
        await interaction.response.send_message(embed=progress_embed(self.bot.catalog, progress), ephemeral=True)

    @app_commands.command(name="clear", description="Forget your progress in a drama.")
    @app_commands.describe(drama="The drama")
    @app_commands.autocomplete(drama=drama_choices)
    async def clear(self, interaction: Interaction, drama: app_commands.Range[str, 1, 100]) -> None:
        found = self.bot.lookups.drama(drama).drama
        removed = await self.bot.progress.clear(_guild(interaction), interaction.user.id, found)
        text = (
            f"Cleared your progress in **{found.title}**."
            if removed
            else f"You had no progress saved for **{found.title}**."
        )
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(Progress(bot))
