"""Community recaps: members submit, moderators approve or reject, authors hear the outcome."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.catalog import Drama
from bot.core import Core, CoreService
from bot.errors import NotModerator, UserError
from bot.storage.community import CommunityRecap, CommunityRepo
from bot.text import clean
from bot.ui.community import outcome_text, review_card, submitted_text

log = logging.getLogger(__name__)


class Community(CoreService):
    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self._repo = CommunityRepo(core.db)

    async def require_moderator(self, interaction: discord.Interaction[Any]) -> None:
        if not await self._settings.is_moderator(interaction):
            raise NotModerator()

    async def approved_for(self, guild_id: int, drama: str, episode: int) -> list[CommunityRecap]:
        """Approved recaps of an episode (shown by `/recap`)."""
        return await self._repo.approved_for(guild_id, drama, episode)

    async def submit(
        self, interaction: discord.Interaction[Any], drama: Drama, episode: int, title: str, body: str
    ) -> None:
        if interaction.guild_id is None:
            raise UserError("Recaps are submitted in a server.")
        title, body = clean(title, 100), body.strip()
        if not title or not body:
            raise UserError("A recap needs a title and some text.")
        name = clean(getattr(interaction.user, "display_name", interaction.user.name), 60)
        await self._repo.submit(
            interaction.guild_id, drama.slug, episode, interaction.user.id, name, title, body[:4000]
        )
        await interaction.response.send_message(submitted_text(drama, episode), ephemeral=True)

    async def show_queue(self, interaction: discord.Interaction[Any], *, edit: bool) -> None:
        assert interaction.guild_id is not None
        recap, waiting = await self._repo.next_pending(interaction.guild_id)
        drama = self._lookups.catalog.dramas.get(recap.drama) if recap else None
        embed, view = review_card(recap, drama, waiting)
        if edit:
            await interaction.response.edit_message(embed=embed, view=view)
        elif view is None:
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def decide(
        self, interaction: discord.Interaction[Any], recap_id: int, state: str, reason: str | None
    ) -> None:
        """Approve or reject. Checked here, on every path (buttons and the reason form's submission):
        whoever opened a form, only a moderator's submission decides."""
        await self.require_moderator(interaction)
        recap = await self._repo.get(recap_id)
        if recap is None or recap.guild_id != interaction.guild_id:
            raise UserError("That recap no longer exists.")
        done = await self._repo.review(recap_id, state, interaction.user.id, clean(reason, 300) if reason else None)
        if not done:
            raise UserError("Another moderator already reviewed that recap.")
        await self.show_queue(interaction, edit=interaction.message is not None)
        await self.notify_author(recap_id)

    async def notify_author(self, recap_id: int) -> None:
        """By DM where the author allows it; otherwise on their next use of the bot."""
        recap = await self._repo.get(recap_id)
        if recap is None:
            return
        text = outcome_text(recap, self._lookups.catalog.dramas.get(recap.drama))
        try:
            user = self._client.get_user(recap.author_id) or await self._client.fetch_user(recap.author_id)
            await user.send(text)
        except discord.HTTPException as exc:
            log.info("recap %d: no DM to the author (%s); they'll hear on their next command", recap_id, exc)
            return
        await self._repo.notified(recap_id)

    async def pending_notices(self, interaction: discord.Interaction[Any]) -> None:
        """After any command: tell the member about reviews they haven't heard of (ephemeral)."""
        if interaction.guild_id is None:
            return
        recaps = await self._repo.unnotified(interaction.guild_id, interaction.user.id)
        for recap in recaps:
            try:
                await interaction.followup.send(
                    outcome_text(recap, self._lookups.catalog.dramas.get(recap.drama)), ephemeral=True
                )
            except discord.HTTPException:
                return
            await self._repo.notified(recap.id)
