"""/feeds add|remove|list|test — recap feeds (moderators)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import MODERATOR_DEFAULT_PERMISSIONS, moderator_only
from bot.errors import InvalidInput
from bot.feeds.fetch import FetchError
from bot.feeds.parse import ParseError
from bot.text import quote
from bot.ui.feeds import feed_status
from cogs._autocomplete import drama_choices


@app_commands.guild_only()
@app_commands.default_permissions(MODERATOR_DEFAULT_PERMISSIONS)
class FeedsCog(commands.GroupCog, group_name="feeds", group_description="Recap feeds posted here (moderators)."):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.feeds.register()
        await self.bot.feeds.start()

    @app_commands.command(name="add", description="Post new recaps from an RSS/Atom feed (checks it now).")
    @app_commands.describe(
        url="The feed's address (http or https)",
        drama="Only post items about this drama",
        channel="Where to post when the episode has no thread (default: the recaps channel)",
    )
    @moderator_only()
    @app_commands.autocomplete(drama=drama_choices)
    async def add(
        self,
        interaction: discord.Interaction[Any],
        url: app_commands.Range[str, 8, 500],
        drama: app_commands.Range[str, 1, 100] | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        assert interaction.guild is not None
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise InvalidInput(f"`url`: {quote(url, 80)} is not an http:// or https:// address.")
        only = self.bot.lookups.drama(drama).drama if drama else None
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            feed, reenabled = await self.bot.feeds.add(
                interaction.guild.id,
                url,
                only.slug if only else None,
                channel.id if channel else None,
                interaction.user.id,
            )
        except FetchError as error:
            raise InvalidInput(f"`url`: {error}") from None
        await self.bot.feeds.first_poll(feed)  # records what exists, posts nothing (new feeds)
        feed = await self.bot.feeds.repo.get(feed.id) or feed
        verb = "Turned back on" if reenabled else "Added"
        text = f"{verb} feed #{feed.id}: {quote(feed.title or url, 100)}.\n{feed_status(feed)}"
        if feed.state == "disabled":
            text += f"\n⛔ The first check failed for good: {feed.disabled_reason}."
        elif not feed.primed and feed.last_error:
            text += f"\n⚠️ The first check failed: {feed.last_error}. I'll keep trying with backoff."
        else:
            text += "\nWhat it has now is recorded, not posted; new items will be."
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="remove", description="Stop posting a feed.")
    @app_commands.describe(feed="The feed (start typing its address or number)")
    @moderator_only()
    async def remove(self, interaction: discord.Interaction[Any], feed: app_commands.Range[str, 1, 500]) -> None:
        found = await self._feed(interaction, feed)
        await self.bot.feeds.remove(found)
        await interaction.response.send_message(f"Removed feed #{found.id} ({found.url}).", ephemeral=True)

    @app_commands.command(name="list", description="This server's feeds: status, errors, next poll, items posted.")
    @moderator_only()
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        feeds = await self.bot.feeds.repo.for_guild(interaction.guild_id)
        if not feeds:
            await interaction.response.send_message("No feeds yet: `/feeds add url:…`.", ephemeral=True)
            return
        text = "\n\n".join(feed_status(f) for f in feeds)
        await interaction.response.send_message(text[:1990], ephemeral=True)

    @app_commands.command(name="test", description="Fetch a feed once and show what would be posted (posts nothing).")
    @app_commands.describe(url="The feed's address", drama="Only consider this drama")
    @moderator_only()
    @app_commands.autocomplete(drama=drama_choices)
    async def test(
        self,
        interaction: discord.Interaction[Any],
        url: app_commands.Range[str, 8, 500],
        drama: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        only = self.bot.lookups.drama(drama).drama if drama else None
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            title, previews = await self.bot.feeds.preview(url.strip(), only)
        except (FetchError, ParseError) as error:
            await interaction.followup.send(f"`url`: {error}", ephemeral=True)
            return
        lines = [f"**{quote(title or url, 100)}**: {len(previews)} item(s)."]
        for preview in previews[:15]:
            name = quote(preview.title or "(no title)", 90)
            if preview.match:
                found, first, last = preview.match
                eps = f"episode {first}" if first == last else f"episodes {first}–{last}"
                lines.append(f"✅ {name} → {found.title} {eps}")
            else:
                lines.append(f"➖ {name} → no episode matched (skipped)")
        await interaction.followup.send("\n".join(lines)[:1990], ephemeral=True)

    @remove.autocomplete("feed")
    async def feed_autocomplete(self, interaction: discord.Interaction[Any], current: str):
        feeds = await self.bot.feeds.repo.for_guild(interaction.guild_id or 0)
        return [
            app_commands.Choice(name=f"#{f.id} {f.url}"[:100], value=str(f.id))
            for f in feeds
            if current.lower() in f"#{f.id} {f.url}".lower()
        ][:25]

    async def _feed(self, interaction: discord.Interaction[Any], text: str):  # noqa: ANN202
        assert interaction.guild_id is not None
        feeds = await self.bot.feeds.repo.for_guild(interaction.guild_id)
        wanted = text.strip().lstrip("#")
        for feed in feeds:
            if str(feed.id) == wanted or feed.url == text.strip():
                return feed
        raise InvalidInput(f"`feed`: no feed {quote(text, 80)} on this server; `/feeds list` shows them.")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(FeedsCog(bot))
