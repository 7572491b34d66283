"""/follow add|remove|list (moderators) and /discuss, /airing: spoiler-tagged episode threads."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import MODERATOR_DEFAULT_PERMISSIONS, moderator_only
from bot.client import Dramawatch, Interaction
from bot.errors import GuildOnly
from bot.text import escape as md
from bot.text import plural
from bot.ui.catalog import when
from bot.ui.discussions import airing_text, follow_text, followed_text
from bot.ui.help import HelpSection
from cogs._autocomplete import drama_choices, episode_choices


@app_commands.guild_only()
@app_commands.default_permissions(MODERATOR_DEFAULT_PERMISSIONS)
class Follow(commands.GroupCog, group_name="follow", group_description="Dramas this server follows (moderators)."):
    help_section = HelpSection("Followed dramas", 80)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(name="add", description="Follow a drama: its episode threads open at air time.")
    @app_commands.describe(drama="The drama (start typing its name)")
    @moderator_only()
    @app_commands.autocomplete(drama=drama_choices)
    async def add(self, interaction: Interaction, drama: app_commands.Range[str, 1, 100]) -> None:
        assert interaction.guild is not None
        found = self.bot.lookups.drama(drama).drama
        result = await self.bot.discussions.follow(interaction.guild.id, found)
        await interaction.response.send_message(follow_text(found, result), ephemeral=True)

    @app_commands.command(name="remove", description="Stop following a drama (its existing threads stay).")
    @app_commands.describe(drama="The drama")
    @moderator_only()
    @app_commands.autocomplete(drama=drama_choices)
    async def remove(self, interaction: Interaction, drama: app_commands.Range[str, 1, 100]) -> None:
        assert interaction.guild is not None
        found = self.bot.lookups.drama(drama).drama
        removed = await self.bot.discussions.unfollow(interaction.guild.id, found)
        text = (
            f"Stopped following **{found.title}**; no more threads will open by themselves."
            if removed
            else f"This server wasn't following **{found.title}**."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="list", description="The dramas this server follows.")
    @moderator_only()
    async def list_(self, interaction: Interaction) -> None:
        assert interaction.guild is not None
        followed = await self.bot.discussions.followed(interaction.guild.id)
        await interaction.response.send_message(followed_text(followed, self.bot.clock.now()), ephemeral=True)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.bot.discussions.thread_deleted(payload.guild_id, payload.thread_id)


class Discuss(commands.Cog):
    help_section = HelpSection("Episode threads", 30)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(
        name="discuss", description="The link to an episode's discussion thread (opens it if allowed)."
    )
    @app_commands.describe(drama="The drama (start typing its name)", episode="The episode number")
    @app_commands.guild_only()
    @app_commands.autocomplete(drama=drama_choices)
    @app_commands.autocomplete(episode=episode_choices)
    async def discuss(
        self,
        interaction: Interaction,
        drama: app_commands.Range[str, 1, 100],
        episode: app_commands.Range[int, 1, 9999],
    ) -> None:
        guild = interaction.guild
        if guild is None or not isinstance(interaction.user, discord.Member):
            raise GuildOnly()
        discussions = self.bot.discussions
        found = self.bot.lookups.drama(drama).drama
        ep = self.bot.lookups.episode(found, episode)
        plan = await discussions.plan_discuss(interaction, guild, found, ep)
        title = md(found.title)
        if plan.action == "exists":
            await interaction.response.send_message(
                f"**{title}** episode {ep.number} is discussed in <#{plan.thread_id}> (spoilers inside)."
            )
        elif plan.action == "not aired":
            await interaction.response.send_message(
                f"**{title}** episode {ep.number} airs {when(ep, found.timezone)}; its thread opens then "
                "if this server follows the drama (`/follow add`).",
                ephemeral=True,
            )
        elif plan.action == "refused":
            await interaction.response.send_message(
                f"There is no thread for **{title}** episode {ep.number} yet, and on this server only "
                "moderators open them. Ask one to run `/discuss`.",
                ephemeral=True,
            )
        elif plan.action == "slow":
            await interaction.response.send_message(
                "That's a lot of new threads at once: you can open another one in "
                f"{plural(plan.wait_minutes, 'minute')}.",
                ephemeral=True,
            )
        else:
            # An old episode's thread opens quietly (no announcement), with a reply only the asker sees.
            await interaction.response.defer(thinking=True, ephemeral=plan.quiet)
            thread_id, created = await discussions.open(guild, found, ep, quiet=plan.quiet)
            verb = "Opened" if created else "Here is"
            await interaction.followup.send(
                f"{verb} the thread for **{title}** episode {ep.number}: <#{thread_id}> (spoilers inside).",
                ephemeral=plan.quiet,
            )

    @app_commands.command(name="airing", description="Upcoming episodes of the dramas this server follows.")
    @app_commands.describe(days="How many days ahead (default 7)")
    @app_commands.guild_only()
    async def airing(self, interaction: Interaction, days: app_commands.Range[int, 1, 60] = 7) -> None:
        assert interaction.guild_id is not None
        rows, follows_any = await self.bot.discussions.airing(interaction.guild_id, days)
        await interaction.response.send_message(airing_text(rows, days, follows_any), ephemeral=True)


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(Follow(bot))
    await bot.add_cog(Discuss(bot))
