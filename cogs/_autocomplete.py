"""Autocomplete callbacks shared by the cogs (not an extension: the leading underscore)."""

from __future__ import annotations

from discord import app_commands

from bot import timezones
from bot.client import Interaction


async def drama_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Dramas matching what was typed, best first."""
    return [app_commands.Choice(name=n, value=v) for n, v in interaction.client.lookups.drama_choices(current)]


async def episode_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
    """Episodes of the drama typed in the same command's `drama` option."""
    drama = str(getattr(interaction.namespace, "drama", "") or "")
    return [
        app_commands.Choice(name=n, value=v) for n, v in interaction.client.lookups.episode_choices(drama, str(current))
    ]


async def who_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Characters and people matching what was typed (within the `drama` option, if given)."""
    drama = str(getattr(interaction.namespace, "drama", "") or "")
    return [app_commands.Choice(name=n, value=v) for n, v in interaction.client.lookups.who_choices(current, drama)]


async def timezone_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in timezones.suggest(current, 25)]
