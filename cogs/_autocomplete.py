"""Autocomplete callbacks shared by the cogs (not an extension: the leading underscore)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands


async def drama_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """Dramas matching what was typed, best first."""
    return [app_commands.Choice(name=n, value=v) for n, v in interaction.client.lookups.drama_choices(current)]


async def episode_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[int]]:
    """Episodes of the drama typed in the same command's `drama` option."""
    drama = str(getattr(interaction.namespace, "drama", "") or "")
    return [
        app_commands.Choice(name=n, value=v) for n, v in interaction.client.lookups.episode_choices(drama, str(current))
    ]
