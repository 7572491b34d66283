"""The /help pages, built from the command tree itself so they never go stale."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import discord
from discord import app_commands

from bot.checks import check_moderator

PAGES = ("everyone", "moderators")
COLOUR = discord.Colour(0xE0457B)


@dataclass(frozen=True)
class CommandLine:
    section: str
    name: str
    description: str
    moderator: bool


def _is_moderator_command(command: app_commands.Command) -> bool:  # type: ignore[type-arg]
    node: app_commands.Command | app_commands.Group | None = command  # type: ignore[type-arg]
    while node is not None:
        if check_moderator in getattr(node, "checks", []):
            return True
        node = node.parent
    return False


def command_lines(
    commands: Iterable[app_commands.Command | app_commands.Group], sections: dict[str, str]
) -> list[CommandLine]:  # type: ignore[type-arg]
    """One line per leaf command. `sections` maps a cog name to its help section."""
    lines: list[CommandLine] = []
    for top in commands:
        leaves = list(top.walk_commands()) if isinstance(top, app_commands.Group) else [top]
        for leaf in leaves:
            if not isinstance(leaf, app_commands.Command):
                continue
            cog = leaf.binding.__cog_name__ if leaf.binding is not None else ""
            params = " ".join(f"{p.display_name}" if p.required else f"[{p.display_name}]" for p in leaf.parameters)
            name = f"/{leaf.qualified_name}" + (f" {params}" if params else "")
            lines.append(CommandLine(sections.get(cog, "Other"), name, leaf.description, _is_moderator_command(leaf)))
    order = list(dict.fromkeys(sections.values()))  # sections appear in the order they are declared
    return sorted(lines, key=lambda c: (order.index(c.section) if c.section in order else len(order), c.name))


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
        by_section.setdefault(line.section, []).append(line)
    for section, items in by_section.items():
        text = "\n".join(f"`{c.name}` — {c.description}" for c in items)
        embed.add_field(name=section, value=text[:1024], inline=False)
    if not chosen:
        embed.add_field(name="Nothing here yet", value="No commands in this group.", inline=False)
    embed.set_footer(text="Spoilers stay hidden: plot text is wrapped in spoiler tags outside episode threads.")
    return embed
