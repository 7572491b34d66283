"""The floors: a bare discord.py bot doing the same transport work as the real bot and nothing else.

Imports discord.py only (not the sandbox, not the bot), so a start-up floor pays only for
discord.py. One bot serves every floor:

  /floor                a fixed embed (what everyday replies are compared with: bench/interactions.py)
  /floorac choice:…     autocomplete answered with 25 fixed choices
  /floorreply i:N       answers with reply N of REPLIES: the content and embeds the real bot answered
                        a measured line with, replayed (the /recap and /who floor: the same payload)
  /floorchoices i:N choice:…
                        autocomplete answered with the choices of REPLY_CHOICES[N], those the real
                        bot answered (the autocomplete floor)
  a `floor:…` button    a persistent (dynamic) button like the RSVP ones, dispatched the same way by
                        discord.py: answered with one ephemeral message (the RSVP floor: the
                        same request per press as the real bot's RSVP answer)
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

FIXED_EMBED = discord.Embed(title="Dramawatch", description="A fixed embed.", colour=0xE0457B)
FIXED_CHOICES = [app_commands.Choice(name=f"Fixed choice {i:02d}", value=f"fixed-{i:02d}") for i in range(25)]
# Set by a bench before it starts the floor: what the real bot answered, built into discord.py objects
# beforehand (outside any timing).
REPLIES: list[tuple[str | None, list[discord.Embed], bool]] = []  # (content, embeds, ephemeral)
REPLY_CHOICES: list[list[app_commands.Choice[str]]] = []


class FloorButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"floor:(?P<name>\w+)"):
    def __init__(self, name: str) -> None:
        super().__init__(discord.ui.Button(label=name, custom_id=f"floor:{name}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> FloorButton:
        return cls(match["name"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("Recorded.", ephemeral=True)


class FloorBot(commands.Bot):
    async def setup_hook(self) -> None:
        self.add_dynamic_items(FloorButton)


def bare_bot(settings: Any = None, clock: Any = None) -> commands.Bot:
    intents = discord.Intents.none()
    intents.guilds = True
    bot = FloorBot(
        command_prefix=commands.when_mentioned,
        intents=intents,
        help_command=None,
        allowed_mentions=discord.AllowedMentions.none(),
        guild_ready_timeout=0.05,
    )

    @bot.tree.command(name="floor", description="Answer a fixed embed.")
    async def floor(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(embed=FIXED_EMBED, ephemeral=True)

    @bot.tree.command(name="floorac", description="Autocomplete with 25 fixed choices.")
    async def floorac(interaction: discord.Interaction[Any], choice: str) -> None:
        await interaction.response.send_message(embed=FIXED_EMBED, ephemeral=True)

    @floorac.autocomplete("choice")
    async def fixed(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return FIXED_CHOICES

    @bot.tree.command(name="floorreply", description="Answer a reply the real bot answered.")
    async def floorreply(interaction: discord.Interaction[Any], i: int) -> None:
        content, embeds, ephemeral = REPLIES[i]
        await interaction.response.send_message(content, embeds=embeds, ephemeral=ephemeral)

    @bot.tree.command(name="floorchoices", description="Autocomplete with the choices the real bot answered.")
    async def floorchoices(interaction: discord.Interaction[Any], i: int, choice: str) -> None:
        await interaction.response.send_message(embed=FIXED_EMBED, ephemeral=True)

    @floorchoices.autocomplete("choice")
    async def replayed(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return REPLY_CHOICES[interaction.namespace.i]

    return bot
