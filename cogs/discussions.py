"""/follow add|remove|list (moderators) and /discuss: spoiler-tagged episode threads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import MODERATOR_DEFAULT_PERMISSIONS, is_moderator, moderator_only
from bot.discussions import JOB_KIND, OPEN_GRACE
from bot.errors import GuildOnly
from bot.ui.catalog import when
from bot.ui.discussions import RatingButton
from cogs._autocomplete import drama_choices, episode_choices


@app_commands.guild_only()
@app_commands.default_permissions(MODERATOR_DEFAULT_PERMISSIONS)
class Follow(commands.GroupCog, group_name="follow", group_description="Dramas this server follows (moderators)."):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(RatingButton)
        self.bot.scheduler.register(JOB_KIND, self.bot.discussions.run_job, grace=OPEN_GRACE)
        await self.bot.discussions.reconcile()

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(RatingButton)

    @app_commands.command(name="add", description="Follow a drama: its episode threads open at air time.")
    @app_commands.describe(drama="The drama (start typing its name)")
    @moderator_only()
    @app_commands.autocomplete(drama=drama_choices)
    async def add(self, interaction: discord.Interaction[Any], drama: app_commands.Range[str, 1, 100]) -> None:
        assert interaction.guild is not None
        found = self.bot.lookups.drama(drama).drama
        added, jobs = await self.bot.discussions.follow(interaction.guild.id, found)
        settings = await self.bot.guild_settings.get(interaction.guild.id)
        upcoming = found.next_episode(self.bot.clock.now())
        lines = [f"Following **{found.title}**." if added else f"This server already follows **{found.title}**."]
        if upcoming is not None:
            lines.append(
                f"{jobs} episode thread(s) will open at air time; next: episode {upcoming.number}, "
                f"{when(upcoming, found.timezone)}."
            )
        else:
            lines.append("Every episode has aired, so nothing opens by itself; `/discuss` opens an episode's thread.")
        if not settings.discussions_channel_id:
            lines.append("⚠️ No discussions channel yet: set one with `/settings channel kind:discussions`.")
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="remove", description="Stop following a drama (its existing threads stay).")
    @app_commands.describe(drama="The drama")
    @moderator_only()
    @app_commands.autocomplete(drama=drama_choices)
    async def remove(self, interaction: discord.Interaction[Any], drama: app_commands.Range[str, 1, 100]) -> None:
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
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild is not None
        slugs = await self.bot.discussions.follows.list(interaction.guild.id)
        now = self.bot.clock.now()
        lines = []
        for slug in slugs:
            drama = self.bot.catalog.dramas.get(slug)
            if drama is None:
                lines.append(f"`{slug}` (no longer in the catalog)")
                continue
            upcoming = drama.next_episode(now)
            nxt = f"next: episode {upcoming.number}, {when(upcoming, drama.timezone)}" if upcoming else "finished"
            lines.append(f"**{drama.title}** — {nxt}")
        text = "\n".join(lines) if lines else "This server follows no drama yet: `/follow add drama`."
        await interaction.response.send_message(text, ephemeral=True)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A thread deleted on Discord: forget it and correct the index; the next request reopens it."""
        row = await self.bot.discussions.threads.by_thread(payload.thread_id)
        guild = self.bot.get_guild(payload.guild_id)
        if row is None or guild is None:
            return
        await self.bot.discussions.threads.forget(row.guild_id, row.drama, row.episode)
        drama = self.bot.catalog.dramas.get(row.drama)
        if drama is not None:
            await self.bot.discussions.refresh_index(guild, drama)


class Discuss(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(
        name="discuss", description="The link to an episode's discussion thread (opens it if allowed)."
    )
    @app_commands.describe(drama="The drama (start typing its name)", episode="The episode number")
    @app_commands.guild_only()
    @app_commands.autocomplete(drama=drama_choices, episode=episode_choices)
    async def discuss(
        self,
        interaction: discord.Interaction[Any],
        drama: app_commands.Range[str, 1, 100],
        episode: app_commands.Range[int, 1, 9999],
    ) -> None:
        guild = interaction.guild
        if guild is None or not isinstance(interaction.user, discord.Member):
            raise GuildOnly()
        lookups, discussions = self.bot.lookups, self.bot.discussions
        found = lookups.drama(drama).drama
        ep = lookups.episode(found, episode)
        thread_id = await discussions.existing(guild, found, ep)
        if thread_id is not None:
            await interaction.response.send_message(
                f"**{found.title}** episode {ep.number} is discussed in <#{thread_id}> (spoilers inside)."
            )
            return
        if not ep.aired(self.bot.clock.now()):
            await interaction.response.send_message(
                f"**{found.title}** episode {ep.number} airs {when(ep, found.timezone)}; its thread opens then "
                "if this server follows the drama (`/follow add`).",
                ephemeral=True,
            )
            return
        settings = await self.bot.guild_settings.get(guild.id)
        moderator = is_moderator(interaction.permissions, [r.id for r in interaction.user.roles], settings.mod_role_id)
        if not (moderator or settings.members_open_threads):
            await interaction.response.send_message(
                f"There is no thread for **{found.title}** episode {ep.number} yet, and on this server only "
                "moderators open them. Ask one to run `/discuss`.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(thinking=True)
        thread_id, created = await discussions.open(guild, found, ep)
        verb = "Opened" if created else "Here is"
        await interaction.followup.send(
            f"{verb} the thread for **{found.title}** episode {ep.number}: <#{thread_id}> (spoilers inside)."
        )

    @app_commands.command(name="airing", description="Upcoming episodes of the dramas this server follows.")
    @app_commands.describe(days="How many days ahead (default 7)")
    @app_commands.guild_only()
    async def airing(self, interaction: discord.Interaction[Any], days: app_commands.Range[int, 1, 60] = 7) -> None:
        assert interaction.guild_id is not None
        now = self.bot.clock.now()
        until = now + timedelta(days=days)
        rows = []
        for slug in await self.bot.discussions.follows.list(interaction.guild_id):
            drama = self.bot.catalog.dramas.get(slug)
            if drama is None:
                continue
            rows += [(e.air_at, drama, e) for e in drama.episodes if now <= e.air_at <= until]
        if not rows:
            followed = await self.bot.discussions.follows.list(interaction.guild_id)
            hint = "" if followed else " This server follows no drama yet (moderators: `/follow add`)."
            await interaction.response.send_message(f"Nothing airs in the next {days} day(s).{hint}", ephemeral=True)
            return
        lines = [
            f"{when(e, d.timezone)} · **{d.title}** episode {e.number}"
            for _, d, e in sorted(rows, key=lambda r: (r[0], r[1].title, r[2].number))
        ]
        text = f"**Airing in the next {days} day(s)**\n" + "\n".join(lines)
        await interaction.response.send_message(text[:1990], ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Follow(bot))
    await bot.add_cog(Discuss(bot))
