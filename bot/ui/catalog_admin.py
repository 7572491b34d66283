"""`/catalog`: the TVmaze pick list and the replies about the live catalog."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.catalog.tvmaze import Candidate
from bot.errors import InvalidInput
from bot.text import plural, quote
from bot.ui import limits
from bot.ui.views import ReportingItem

if TYPE_CHECKING:
    from bot.client import Interaction
    from bot.live_catalog import Changed, Entry


def candidate_option(candidate: Candidate) -> discord.SelectOption:
    """Title (year) as the label; network, country, episode count and status as the description."""
    label = f"{candidate.name} ({candidate.year})" if candidate.year else candidate.name
    bits = [b for b in (candidate.network, candidate.country) if b]
    if candidate.episodes is not None:
        bits.append(f"{candidate.episodes} episode{'' if candidate.episodes == 1 else 's'}")
    if candidate.status:
        bits.append(candidate.status.lower())
    return discord.SelectOption(
        label=label[:100], value=str(candidate.id), description=(" · ".join(bits) or "TVmaze")[:100]
    )


def pick_text(query: str, candidates: list[Candidate]) -> str:
    if not candidates:
        return f"TVmaze has no show matching {quote(query, 80)}. Try the drama's English or romanised title."
    return (
        f"{plural(len(candidates), 'show')} on TVmaze match {quote(query, 80)}. Pick the one to add "
        "(data from TVmaze, CC BY-SA 4.0):"
    )


def pick_view(candidates: list[Candidate]) -> discord.ui.View | None:
    if not candidates:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(CatalogPick([candidate_option(c) for c in candidates[:25]]))
    return view


def changed_text(changed: Changed) -> str:
    drama = changed.drama
    if changed.created:
        episodes = plural(len(drama.episodes), "episode")
        head = f"Added **{limits.md(drama.title)}** (`{drama.slug}`) to the catalog: {episodes}"
    else:
        head = f"Refreshed **{limits.md(drama.title)}** (`{drama.slug}`)"
    lines = [head + "."]
    if not changed.created:
        lines.append(
            "; ".join(changed.changes[:8])
            + (f"; … and {len(changed.changes) - 8} more" if len(changed.changes) > 8 else "")
            if changed.changes
            else "Nothing changed on TVmaze."
        )
    if changed.created:
        lines.append(
            f"Usable now in every server of this bot: `/drama {drama.slug}`, `/recap`, `/who`, and "
            f"`/follow add drama:{drama.slug}` for episode threads at air time."
        )
    return "\n".join(lines)[:2000]


def entries_text(entries: list[Entry]) -> str:
    if not entries:
        return "The catalog is empty."
    imported = [e for e in entries if e.origin == "tvmaze"]
    shipped = [e for e in entries if e.origin != "tvmaze"]
    lines = [f"**{plural(len(entries), 'drama')} in the catalog**"]
    if imported:
        lines.append("Added from TVmaze (refreshed while airing):")
        lines += [
            f"· {limits.md(e.drama.title)} (`{e.drama.slug}`, {e.drama.year}) — {e.status.lower() or 'status unknown'}"
            for e in imported[:40]
        ]
    if shipped:
        lines.append("From pack files:")
        lines += [f"· {limits.md(e.drama.title)} (`{e.drama.slug}`, {e.drama.year})" for e in shipped[:40]]
    hidden = max(0, len(imported) - 40) + max(0, len(shipped) - 40)
    if hidden:
        lines.append(f"… and {hidden} more (`/drama` with the autocomplete finds every one).")
    return limits.join(lines, limits.CONTENT)


class CatalogPick(ReportingItem, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dw:catalog:add"):
    """The TVmaze pick list of `/catalog add`; the permission is checked again on the pick."""

    def __init__(self, options: list[discord.SelectOption]) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder="Which show?", options=options, custom_id="dw:catalog:add", min_values=1, max_values=1
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CatalogPick:
        options = (item.options if isinstance(item, discord.ui.Select) else []) or [
            discord.SelectOption(label="?", value="0")
        ]
        return cls(options)

    async def run(self, interaction: Interaction) -> None:
        live = interaction.client.live_catalog
        await live.check_manager(interaction)
        data: Any = interaction.data or {}
        values = data.get("values") or []
        if not values or not str(values[0]).isdigit():
            raise InvalidInput("Pick one of the shows in the list.")
        show_id = int(values[0])
        await interaction.response.edit_message(content="Importing from TVmaze…", view=None)

        async def progress(text: str) -> None:
            try:
                await interaction.edit_original_response(content=text)
            except discord.HTTPException:
                pass  # progress is a courtesy: the import goes on

        changed = await live.add(interaction.guild_id, interaction.user.id, show_id, progress)
        await interaction.edit_original_response(content=changed_text(changed))
