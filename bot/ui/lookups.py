"""Rendering `/recap`, `/who` and `/drama` answers, and their persistent components."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.answers import Card, CharacterCard, DramaAnswer, RecapAnswer
from bot.catalog import Drama
from bot.errors import NotFound
from bot.text import quote
from bot.ui import limits
from bot.ui.catalog import character_embed, drama_embed, drama_pages, person_embed, recap_embed, recap_link_line
from bot.ui.community import recap_lines
from bot.ui.ids import drama_key, drama_slug
from bot.ui.views import ReportingItem

if TYPE_CHECKING:
    from bot.client import Interaction


def recap_reply(answer: RecapAnswer) -> tuple[str | None, discord.Embed]:
    """(content, embed) of an aired episode's `/recap` reply."""
    content = (
        limits.content(f"(Showing **{limits.md(answer.drama.title)}** for “{quote(answer.guessed_from, 60)}”.)")
        if answer.guessed_from
        else None
    )
    embed = recap_embed(
        answer.drama,
        answer.episode,
        plain=answer.plain,
        thread_id=answer.thread_id,
        recap_links=[recap_link_line(*link) for link in answer.links or []],
        community=recap_lines(answer.community or []),
    )
    return content, embed


def who_embed(card: Card) -> discord.Embed:
    if isinstance(card, CharacterCard):
        return character_embed(card.catalog, card.drama, card.character, watched=card.watched, plain=card.plain)
    return person_embed(card.person, card.roles)


def who_pick_view(options: list[tuple[str, str]], private: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    choices = [option for label, value in options if (option := limits.option(label, value)) is not None]
    view.add_item(WhoPick(choices[: limits.OPTIONS] or [discord.SelectOption(label="?", value="?")], private))
    return view


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
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WhoPick:
        options = (item.options if isinstance(item, discord.ui.Select) else []) or [
            discord.SelectOption(label="?", value="?")
        ]
        return cls(options, match["private"] == "1")

    async def run(self, interaction: Interaction) -> None:
        data: Any = interaction.data or {}
        values = data.get("values") or []
        if not values:
            raise NotFound("Pick one of the entries in the list.")
        card = await interaction.client.answers.card(
            guild_id=interaction.guild_id, user_id=interaction.user.id, value=str(values[0]), private=self.private
        )
        await interaction.response.edit_message(content=None, embed=who_embed(card), view=None)


class DramaPage(
    ReportingItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"dw:drama:(?P<slug>[a-z0-9-]+):(?P<page>\d+)(?::(?P<way>[pn]))?",
):
    """Previous/next page of a long episode list; the page lives in the custom_id, with the drama as a
    short hash of its slug (`bot.ui.ids`) and the button's direction, so the two buttons of a message
    never share an id (even on a page a shorter catalog no longer has)."""

    def __init__(
        self, slug: str, page: int, label: str, disabled: bool = False, *, way: str = "", key: str | None = None
    ) -> None:
        suffix = f":{way}" if way else ""
        super().__init__(
            discord.ui.Button(
                label=limits.plain(label, limits.BUTTON_LABEL),
                style=discord.ButtonStyle.secondary,
                custom_id=limits.custom_id(f"dw:drama:{key or drama_key(slug)}:{page}{suffix}"),
                disabled=disabled,
            )
        )
        self.slug = slug
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DramaPage:
        label = item.label if isinstance(item, discord.ui.Button) else None
        key = match["slug"]
        slug = drama_slug(key, interaction.client.lookups.catalog.dramas) or key
        return cls(slug, int(match["page"]), str(label or ""), way=match["way"] or "", key=key)

    async def run(self, interaction: Interaction) -> None:
        answer = await interaction.client.answers.drama_by_slug(guild_id=interaction.guild_id, slug=self.slug)
        embed, view = drama_reply(answer, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


def drama_view(drama: Drama, page: int) -> discord.ui.View | None:
    pages = drama_pages(drama)
    if pages <= 1 or len(f"dw:drama:{drama_key(drama.slug)}:{pages}:n") > limits.CUSTOM_ID:
        return None  # one page, or a slug too long to carry in a button (the first page is shown)
    view = discord.ui.View(timeout=None)
    view.add_item(DramaPage(drama.slug, max(page - 1, 0), "◀ Previous", disabled=page <= 0, way="p"))
    view.add_item(DramaPage(drama.slug, min(page + 1, pages - 1), "Next ▶", disabled=page >= pages - 1, way="n"))
    return view


def drama_reply(answer: DramaAnswer, page: int = 0) -> tuple[discord.Embed, discord.ui.View | None]:
    embed = drama_embed(answer.catalog, answer.drama, answer.now, page, threads=answer.threads)
    return embed, drama_view(answer.drama, page)
