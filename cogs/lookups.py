"""/recap, /who, /drama: what members use most."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalog import Character, Drama
from bot.errors import NotFound
from bot.lookups import target_value
from bot.spoilers import may_show_plain
from bot.text import quote
from bot.ui.catalog import (
    character_embed,
    drama_embed,
    drama_pages,
    not_aired_text,
    person_embed,
    recap_embed,
    recap_link_line,
)
from bot.ui.community import recap_lines
from bot.ui.views import ReportingItem
from cogs._autocomplete import drama_choices, episode_choices


async def _watched(interaction: discord.Interaction[Any], drama_slug: str) -> int:
    if interaction.guild_id is None:
        return 0
    return await interaction.client.progress.get(interaction.guild_id, interaction.user.id, drama_slug)


async def who_card(interaction: discord.Interaction[Any], value: str, private: bool) -> discord.Embed:
    bot = interaction.client
    found = bot.lookups.target(value)
    if found is None:
        raise NotFound("That entry is no longer in the catalog; search again with `/who`.")
    if isinstance(found, tuple):
        drama, character = found
        return await _character_card(interaction, drama, character, private)
    return person_embed(found, bot.catalog.roles(found.slug))


async def _character_card(
    interaction: discord.Interaction[Any], drama: Drama, character: Character, private: bool
) -> discord.Embed:
    watched = await _watched(interaction, drama.slug)
    # Only facts up to `watched` are shown; plain only in a reply the asker alone sees.
    return character_embed(interaction.client.catalog, drama, character, watched=watched, plain=private)


class WhoPick(ReportingItem, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dw:who:(?P<private>[01])"):
    """The pick list when a /who name matches several entries. Works after a restart."""

    def __init__(self, options: list[discord.SelectOption], private: bool) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder="Which one?",
                options=options,
                custom_id=f"dw:who:{int(private)}",
                min_values=1,
                max_values=1,
            )
        )
        self.private = private

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Select[Any], match: re.Match[str], /
    ) -> WhoPick:
        options = item.options or [discord.SelectOption(label="?", value="?")]
        return cls(options, match["private"] == "1")

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        values = (interaction.data or {}).get("values") or []
        if not values:
            raise NotFound("Pick one of the entries in the list.")
        embed = await who_card(interaction, str(values[0]), self.private)
        await interaction.response.edit_message(content=None, embed=embed, view=None)


class DramaPage(
    ReportingItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"dw:drama:(?P<slug>[a-z0-9-]+):(?P<page>\d+)",
):
    """Previous/next page of a long episode list; the page lives in the custom_id."""

    def __init__(self, slug: str, page: int, label: str, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, custom_id=f"dw:drama:{slug}:{page}", disabled=disabled
            )
        )
        self.slug = slug
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> DramaPage:
        return cls(match["slug"], int(match["page"]), str(item.label or ""))

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        drama = interaction.client.catalog.dramas.get(self.slug)
        if drama is None:
            raise NotFound("That drama is no longer in the catalog.")
        threads = (
            await interaction.client.discussions.thread_links(interaction.guild_id, drama.slug)
            if interaction.guild_id
            else {}
        )
        embed = drama_embed(
            interaction.client.catalog, drama, interaction.client.clock.now(), self.page, threads=threads
        )
        await interaction.response.edit_message(embed=embed, view=drama_view(drama, self.page))


def drama_view(drama: Drama, page: int) -> discord.ui.View | None:
    pages = drama_pages(drama)
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(DramaPage(drama.slug, max(page - 1, 0), "◀ Previous", disabled=page <= 0))
    view.add_item(DramaPage(drama.slug, min(page + 1, pages - 1), "Next ▶", disabled=page >= pages - 1))
    return view


class Lookups(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(WhoPick, DramaPage)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(WhoPick, DramaPage)

    # -- /recap ---------------------------------------------------------------------------------
    @app_commands.command(name="recap", description="An episode's synopsis (behind spoiler bars), air time and recaps.")
    @app_commands.describe(
        drama="The drama (start typing its name)",
        episode="The episode number",
        private="Only you see the reply; what your /progress covers is then shown without spoiler bars",
    )
    @app_commands.autocomplete(drama=drama_choices, episode=episode_choices)
    async def recap(
        self,
        interaction: discord.Interaction[Any],
        drama: app_commands.Range[str, 1, 100],
        episode: app_commands.Range[int, 1, 9999],
        private: bool = False,
    ) -> None:
        lookups = self.bot.lookups
        resolved = lookups.drama(drama)
        found = resolved.drama
        ep = lookups.episode(found, episode)
        if not ep.aired(self.bot.clock.now()):
            await interaction.response.send_message(not_aired_text(found, ep), ephemeral=True)
            return
        watched = await _watched(interaction, found.slug)
        threads = (
            await self.bot.discussions.thread_links(interaction.guild_id, found.slug) if interaction.guild_id else {}
        )
        thread_id = threads.get(ep.number)
        links = (
            [
                recap_link_line(*link)
                for link in await self.bot.feeds.links.for_episode(interaction.guild_id, found.slug, ep.number)
            ]
            if interaction.guild_id
            else []
        )
        community = (
            recap_lines(await self.bot.community.repo.approved_for(interaction.guild_id, found.slug, ep.number))
            if interaction.guild_id
            else []
        )
        plain = may_show_plain(
            episode=ep.number,
            watched=watched,
            ephemeral=private,
            in_episode_thread=thread_id is not None and interaction.channel_id == thread_id,
        )
        content = (
            f"(Showing **{found.title}** for “{quote(resolved.guessed_from, 60)}”.)" if resolved.guessed_from else None
        )
        await interaction.response.send_message(
            content,
            embed=recap_embed(found, ep, plain=plain, thread_id=thread_id, recap_links=links, community=community),
            ephemeral=private,
        )

    # -- /who -----------------------------------------------------------------------------------
    @app_commands.command(name="who", description="A character or an actor: who they are, who plays them, roles.")
    @app_commands.describe(
        name="A character's or actor's name: romanised, Hangul, or a nickname",
        drama="Only look in this drama",
        private="Only you see the reply; facts your /progress covers are then shown without spoiler bars",
    )
    @app_commands.autocomplete(drama=drama_choices)
    async def who(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, 100],
        drama: app_commands.Range[str, 1, 100] | None = None,
        private: bool = False,
    ) -> None:
        lookups = self.bot.lookups
        scope = lookups.drama(drama).drama if drama else None
        if lookups.target(name) is not None:  # picked from the autocomplete
            await interaction.response.send_message(embed=await who_card(interaction, name, private), ephemeral=private)
            return
        hits = lookups.who(name, scope)
        if len(hits) == 1:
            embed = await who_card(interaction, target_value(hits[0].target), private)
            await interaction.response.send_message(embed=embed, ephemeral=private)
            return
        options = [discord.SelectOption(label=h.label[:100], value=target_value(h.target)[:100]) for h in hits[:25]]
        view = discord.ui.View(timeout=None)
        view.add_item(WhoPick(options, private))
        await interaction.response.send_message(
            f"Several entries match {quote(name, 60)}; pick one:", view=view, ephemeral=True
        )

    @who.autocomplete("name")
    async def who_name_autocomplete(self, interaction: discord.Interaction[Any], current: str):
        drama = str(getattr(interaction.namespace, "drama", "") or "")
        return [app_commands.Choice(name=n, value=v) for n, v in self.bot.lookups.who_choices(current, drama)]

    # -- /drama ---------------------------------------------------------------------------------
    @app_commands.command(name="drama", description="A drama's overview: where it airs, schedule, episodes, cast.")
    @app_commands.describe(drama="The drama (start typing its name)")
    @app_commands.autocomplete(drama=drama_choices)
    async def drama(self, interaction: discord.Interaction[Any], drama: app_commands.Range[str, 1, 100]) -> None:
        found = self.bot.lookups.drama(drama).drama
        threads = (
            await self.bot.discussions.thread_links(interaction.guild_id, found.slug) if interaction.guild_id else {}
        )
        embed = drama_embed(self.bot.catalog, found, self.bot.clock.now(), threads=threads)
        view = drama_view(found, 0)
        if view is None:
            await interaction.response.send_message(embed=embed)
        else:
            await interaction.response.send_message(embed=embed, view=view)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Lookups(bot))
