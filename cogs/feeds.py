"""/feeds add|remove|list|test|edit|unmatched — recap feeds (moderators)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import MODERATOR_DEFAULT_PERMISSIONS, moderator_only
from bot.client import Dramawatch, Interaction
from bot.errors import InvalidInput
from bot.feeds.fetch import FetchError
from bot.feeds.parse import ParseError
from bot.text import quote
from bot.ui import limits
from bot.ui.feeds import (
    TEMPLATE_FIELDS,
    added_text,
    edited_text,
    feed_pick_view,
    feed_status,
    pick_text,
    preview_text,
    unmatched_text,
    unmatched_view,
)
from bot.ui.help import HelpSection
from cogs._autocomplete import drama_choices


@app_commands.guild_only()
@app_commands.default_permissions(MODERATOR_DEFAULT_PERMISSIONS)
class FeedsCog(commands.GroupCog, group_name="feeds", group_description="Recap feeds posted here (moderators)."):
    help_section = HelpSection("Recap feeds", 90)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

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
        interaction: Interaction,
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
        checked = await self.bot.feeds.check(url)  # fetched once first: a bad URL is refused, nothing saved
        if checked.choices:
            view = feed_pick_view(checked.choices, only.slug if only else None, channel.id if channel else None)
            await interaction.followup.send(pick_text(url, checked.choices), view=view, ephemeral=True)
            return
        added = await self.bot.feeds.add_and_poll(
            interaction.guild.id,
            checked.url,
            only.slug if only else None,
            channel.id if channel else None,
            interaction.user.id,
        )
        await interaction.followup.send(added_text(added.feed, checked.url, added.reenabled), ephemeral=True)

    @app_commands.command(name="remove", description="Stop posting a feed.")
    @app_commands.describe(feed="The feed (start typing its address or number)")
    @moderator_only()
    async def remove(self, interaction: Interaction, feed: app_commands.Range[str, 1, 500]) -> None:
        assert interaction.guild_id is not None
        removed = await self.bot.feeds.remove_named(interaction.guild_id, feed)
        await interaction.response.send_message(f"Removed feed #{removed.id} ({removed.url}).", ephemeral=True)

    @app_commands.command(name="list", description="This server's feeds: status, errors, next poll, items posted.")
    @moderator_only()
    async def list_(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        feeds = await self.bot.feeds.for_guild(interaction.guild_id)
        if not feeds:
            await interaction.response.send_message("No feeds yet: `/feeds add url:…`.", ephemeral=True)
            return
        text = limits.join((feed_status(f) for f in feeds), limits.CONTENT, sep="\n\n")
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="test", description="Fetch a feed once and show what would be posted (posts nothing).")
    @app_commands.describe(url="The feed's address", drama="Only consider this drama")
    @moderator_only()
    @app_commands.autocomplete(drama=drama_choices)
    async def test(
        self,
        interaction: Interaction,
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
        await interaction.followup.send(preview_text(title or url, previews), ephemeral=True)

    @app_commands.command(name="edit", description="Set a feed's post template and title filters.")
    @app_commands.describe(
        feed="The feed (start typing its address or number)",
        template="The post's text: " + " ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS) + " (none: clear)",
        include="Post only titles with one of these comma-separated words (none: clear)",
        exclude="Never post titles with any of these comma-separated words (none: clear)",
    )
    @moderator_only()
    async def edit(
        self,
        interaction: Interaction,
        feed: app_commands.Range[str, 1, 500],
        template: app_commands.Range[str, 1, 500] | None = None,
        include: app_commands.Range[str, 1, 500] | None = None,
        exclude: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        edited = await self.bot.feeds.edit(interaction.guild_id, feed, template, include, exclude)
        await interaction.response.send_message(edited_text(edited.feed, edited.preview), ephemeral=True)

    @app_commands.command(name="unmatched", description="Recent feed items no episode matched: assign or dismiss.")
    @moderator_only()
    async def unmatched(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        items = await self.bot.feeds.unmatched(interaction.guild_id)
        view = unmatched_view(items)
        text = unmatched_text(len(items))
        if view is None:
            await interaction.response.send_message(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, view=view, ephemeral=True)

    @remove.autocomplete("feed")
    @edit.autocomplete("feed")
    async def feed_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        choices = await self.bot.feeds.choices(interaction.guild_id or 0, current)
        return [app_commands.Choice(name=label, value=value) for label, value in choices]


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(FeedsCog(bot))
