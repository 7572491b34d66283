"""/catalog add|refresh|remove|list — the live catalog, managed from Discord (moderators)."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.checks import MODERATOR_DEFAULT_PERMISSIONS
from bot.client import Dramawatch, Interaction
from bot.ui.catalog_admin import changed_text, entries_text, pick_text, pick_view
from bot.ui.help import HelpSection
from cogs._autocomplete import drama_choices


@app_commands.guild_only()
@app_commands.default_permissions(MODERATOR_DEFAULT_PERMISSIONS)
class CatalogCog(
    commands.GroupCog, group_name="catalog", group_description="The dramas this bot knows: add them from TVmaze."
):
    help_section = HelpSection("The catalog", 85)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(name="add", description="Add a drama from TVmaze: pick it from the search results.")
    @app_commands.describe(query="The drama's title, as TVmaze knows it (English or romanised)")
    async def add(self, interaction: Interaction, query: app_commands.Range[str, 2, 100]) -> None:
        await self.bot.live_catalog.check_manager(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        candidates = await self.bot.live_catalog.candidates(query)
        view = pick_view(candidates)
        text = pick_text(query, candidates)
        if view is None:
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.followup.send(text, view=view, ephemeral=True)

    @app_commands.command(name="refresh", description="Fetch an added drama from TVmaze again now.")
    @app_commands.describe(drama="A drama added from TVmaze")
    @app_commands.autocomplete(drama=drama_choices)
    async def refresh(self, interaction: Interaction, drama: app_commands.Range[str, 1, 100]) -> None:
        await self.bot.live_catalog.check_manager(interaction)
        found = self.bot.lookups.drama(drama).drama
        await interaction.response.defer(ephemeral=True, thinking=True)
        changed = await self.bot.live_catalog.refresh(interaction.guild_id, found.slug)
        await interaction.followup.send(changed_text(changed), ephemeral=True)

    @app_commands.command(name="remove", description="Remove a drama added from TVmaze (only if no server follows it).")
    @app_commands.describe(drama="A drama added from TVmaze")
    @app_commands.autocomplete(drama=drama_choices)
    async def remove(self, interaction: Interaction, drama: app_commands.Range[str, 1, 100]) -> None:
        await self.bot.live_catalog.check_manager(interaction)
        found = self.bot.lookups.drama(drama).drama
        removed = await self.bot.live_catalog.remove(found.slug)
        await interaction.response.send_message(
            f"Removed **{removed.title}** (`{removed.slug}`) from the catalog.", ephemeral=True
        )

    @app_commands.command(name="list", description="Every drama in the catalog, and where it comes from.")
    async def list_(self, interaction: Interaction) -> None:
        entries = await self.bot.live_catalog.entries()
        await interaction.response.send_message(entries_text(entries), ephemeral=True)


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(CatalogCog(bot))
