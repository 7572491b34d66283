"""/help: every command, grouped, one line each; moderator commands on their own page."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_moderator
from bot.errors import NotModerator
from bot.ui.help import PAGES, command_lines, help_embed
from bot.ui.views import ReportingItem

SECTIONS = {  # cog name -> help section, in the order /help shows them
    "Lookups": "Dramas, episodes and cast",
    "Progress": "Your progress (spoiler shield)",
    "Discuss": "Episode threads",
    "WatchParty": "Watch parties",
    "Recaps": "Community recaps",
    "Help": "General",
    "Settings": "Server settings",
    "Follow": "Followed dramas",
    "FeedsCog": "Recap feeds",
}


_cache: dict[tuple[int, ...], list[Any]] = {}


def _lines(bot: commands.Bot) -> list[Any]:
    """The help lines, rebuilt only when the command tree changes (an extension loads or unloads)."""
    top = bot.tree.get_commands()
    key = tuple(id(c) for c in top)
    if key not in _cache:
        _cache.clear()
        _cache[key] = command_lines(top, SECTIONS)
    return _cache[key]


async def _lines_and_mod(interaction: discord.Interaction[Any]):
    bot = interaction.client
    lines = _lines(bot)
    moderator = False
    if interaction.guild_id is not None and isinstance(interaction.user, discord.Member):
        settings = await bot.guild_settings.get(interaction.guild_id)
        moderator = is_moderator(interaction.permissions, [r.id for r in interaction.user.roles], settings.mod_role_id)
    return lines, moderator


def help_view(moderator: bool, current: str) -> discord.ui.View | None:
    if not moderator:
        return None
    view = discord.ui.View(timeout=None)
    for page in PAGES:
        view.add_item(HelpPageButton(page, disabled=page == current))
    return view


class HelpPageButton(
    ReportingItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"dw:help:(?P<page>everyone|moderators)",
):
    def __init__(self, page: str, disabled: bool = False) -> None:
        label = "Everyone" if page == "everyone" else "Moderators"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"dw:help:{page}",
                disabled=disabled,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> HelpPageButton:
        return cls(match["page"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        lines, moderator = await _lines_and_mod(interaction)
        if self.page == "moderators" and not moderator:
            raise NotModerator()
        await interaction.response.edit_message(
            embed=help_embed(lines, self.page), view=help_view(moderator, self.page)
        )


class Help(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(HelpPageButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(HelpPageButton)

    @app_commands.command(name="help", description="What Dramawatch can do: every command, one line each.")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        lines, moderator = await _lines_and_mod(interaction)
        view = help_view(moderator, "everyone")
        if view is None:
            await interaction.response.send_message(embed=help_embed(lines, "everyone"), ephemeral=True)
        else:
            await interaction.response.send_message(embed=help_embed(lines, "everyone"), view=view, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Help(bot))
