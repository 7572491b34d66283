"""/recap, /who, /drama: what members use most."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.client import Dramawatch, Interaction
from bot.text import quote
from bot.ui.catalog import not_aired_text
from bot.ui.help import HelpSection
from bot.ui.lookups import drama_reply, recap_reply, who_embed, who_pick_view
from cogs._autocomplete import drama_choices, episode_choices, who_choices


class Lookups(commands.Cog):
    help_section = HelpSection("Dramas, episodes and cast", 10)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(name="recap", description="An episode's synopsis (behind spoiler bars), air time and recaps.")
    @app_commands.describe(
        drama="The drama (start typing its name)",
        episode="The episode number",
        private="Only you see the reply; what your /progress covers is then shown without spoiler bars",
    )
    @app_commands.autocomplete(drama=drama_choices)
    @app_commands.autocomplete(episode=episode_choices)
    async def recap(
        self,
        interaction: Interaction,
        drama: app_commands.Range[str, 1, 100],
        episode: app_commands.Range[int, 1, 9999],
        private: bool = False,
    ) -> None:
        answer = await self.bot.answers.recap(
            guild_id=interaction.guild_id,
            user_id=interaction.user.id,
            channel_id=interaction.channel_id,
            drama=drama,
            episode=episode,
            private=private,
        )
        if not answer.aired:
            await interaction.response.send_message(not_aired_text(answer.drama, answer.episode), ephemeral=True)
            return
        content, embed = recap_reply(answer)
        await interaction.response.send_message(content, embed=embed, ephemeral=private)

    @app_commands.command(name="who", description="A character or an actor: who they are, who plays them, roles.")
    @app_commands.describe(
        name="A character's or actor's name: romanised, Hangul, or a nickname",
        drama="Only look in this drama",
        private="Only you see the reply; facts your /progress covers are then shown without spoiler bars",
    )
    @app_commands.autocomplete(name=who_choices, drama=drama_choices)
    async def who(
        self,
        interaction: Interaction,
        name: app_commands.Range[str, 1, 100],
        drama: app_commands.Range[str, 1, 100] | None = None,
        private: bool = False,
    ) -> None:
        answer = await self.bot.answers.who(
            guild_id=interaction.guild_id, user_id=interaction.user.id, name=name, drama=drama, private=private
        )
        if answer.card is not None:
            await interaction.response.send_message(embed=who_embed(answer.card), ephemeral=private)
            return
        await interaction.response.send_message(
            f"Several entries match {quote(name, 60)}; pick one:",
            view=who_pick_view(answer.options, private),
            ephemeral=True,
        )

    @app_commands.command(name="drama", description="A drama's overview: where it airs, schedule, episodes, cast.")
    @app_commands.describe(drama="The drama (start typing its name)")
    @app_commands.autocomplete(drama=drama_choices)
    async def drama(self, interaction: Interaction, drama: app_commands.Range[str, 1, 100]) -> None:
        embed, view = drama_reply(await self.bot.answers.drama(guild_id=interaction.guild_id, drama=drama))
        if view is None:
            await interaction.response.send_message(embed=embed)
        else:
            await interaction.response.send_message(embed=embed, view=view)


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(Lookups(bot))
