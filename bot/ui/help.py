"""The /help pages, built from the command tree itself so they never go stale."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.checks import check_moderator
from bot.errors import NotModerator
from bot.ui import limits
from bot.ui.views import ReportingItem

if TYPE_CHECKING:
    from bot.client import Interaction

log = logging.getLogger(__name__)

PAGES = ("everyone", "moderators")
COLOUR = discord.Colour(0xE0457B)


@dataclass(frozen=True)
class HelpSection:
    """Declared by each cog as its `help_section` class attribute: where its commands appear in /help."""

    title: str
    order: int  # sections are shown in increasing order


OTHER = HelpSection("Other", 1000)


def section_of(cog: Any) -> HelpSection:
    section = getattr(cog, "help_section", None)
    if isinstance(section, HelpSection):
        return section
    log.warning("cog %s declares no help_section; its commands are listed under Other", type(cog).__name__)
    return OTHER


@dataclass(frozen=True)
class CommandLine:
    section: HelpSection
    name: str
    description: str
    moderator: bool


AnyCommand = app_commands.Command[Any, ..., Any]


def _is_moderator_command(command: AnyCommand) -> bool:
    node: AnyCommand | app_commands.Group | None = command
    while node is not None:
        if check_moderator in getattr(node, "checks", []):
            return True
        node = node.parent
    return False


def command_lines(commands: Iterable[AnyCommand | app_commands.Group]) -> list[CommandLine]:
    """One line per leaf command, in the help section its cog declares."""
    lines: list[CommandLine] = []
    for top in commands:
        leaves = list(top.walk_commands()) if isinstance(top, app_commands.Group) else [top]
        for leaf in leaves:
            if not isinstance(leaf, app_commands.Command):
                continue
            section = section_of(leaf.binding) if leaf.binding is not None else OTHER
            params = " ".join(f"{p.display_name}" if p.required else f"[{p.display_name}]" for p in leaf.parameters)
            name = f"/{leaf.qualified_name}" + (f" {params}" if params else "")
            lines.append(CommandLine(section, name, leaf.description, _is_moderator_command(leaf)))
    return sorted(lines, key=lambda c: (c.section.order, c.section.title, c.name))


def help_embed(lines: list[CommandLine], page: str) -> discord.Embed:
    moderators = page == "moderators"
    chosen = [line for line in lines if line.moderator == moderators]
    if moderators:
        title, intro = (
            "Dramawatch — moderator commands",
            "For members with **Manage Server** or the server's moderator role (`/settings modrole`).",
        )
    else:
        title, intro = (
            "Dramawatch — commands",
            "Episode recaps, cast lookups, spoiler-safe episode threads and watch parties for your server.",
        )
    embed = discord.Embed(title=title, description=intro, colour=COLOUR)
    by_section: dict[str, list[CommandLine]] = {}
    for line in chosen:
        by_section.setdefault(line.section.title, []).append(line)
    for section, items in by_section.items():
        text = limits.join((f"`{c.name}` — {c.description}" for c in items), limits.FIELD_VALUE)
        embed.add_field(name=section, value=text, inline=False)
    if not chosen:
        embed.add_field(name="Nothing here yet", value="No commands in this group.", inline=False)
    embed.set_footer(text="Spoilers stay hidden: plot text is wrapped in spoiler tags outside episode threads.")
    return limits.finish(embed)


_lines_cache: dict[tuple[int, ...], list[CommandLine]] = {}


def tree_lines(tree: app_commands.CommandTree[Any]) -> list[CommandLine]:
    """The help lines, rebuilt only when the command tree changes (an extension loads or unloads)."""
    top = tree.get_commands()
    key = tuple(id(c) for c in top)
    if key not in _lines_cache:
        _lines_cache.clear()
        _lines_cache[key] = command_lines(c for c in top if not isinstance(c, app_commands.ContextMenu))
    return _lines_cache[key]


async def help_page(interaction: Interaction, page: str) -> tuple[discord.Embed, discord.ui.View | None]:
    """The embed of a /help page, and the page buttons for moderators (members see one page)."""
    moderator = await interaction.client.server_settings.is_moderator(interaction)
    if page == "moderators" and not moderator:
        raise NotModerator()
    return help_embed(tree_lines(interaction.client.tree), page), help_view(moderator, page)


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
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> HelpPageButton:
        return cls(match["page"])

    async def run(self, interaction: Interaction) -> None:
        embed, view = await help_page(interaction, self.page)
        await interaction.response.edit_message(embed=embed, view=view)
