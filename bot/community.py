"""Community recaps: members submit, moderators approve or reject, authors hear the outcome."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.catalog import Drama
from bot.core import Core, CoreService
from bot.discussions import Discussions
from bot.errors import NotModerator, UserError
from bot.nonce import nonce
from bot.recovery import find_sent
from bot.storage.community import CommunityRecap, CommunityRepo
from bot.text import clean
from bot.ui.community import (
    POST_MARK,
    outcome_text,
    queue_view,
    recap_post_embed,
    review_card,
    submission_notice,
    submitted_text,
)

log = logging.getLogger(__name__)


class Community(CoreService):
    """Members submit, the moderators are told and review, the approved recap is posted once (in the
    episode's thread, else the recaps channel), and the author hears the outcome."""

    def __init__(self, core: Core, *, discussions: Discussions) -> None:
        super().__init__(core)
        self._repo = CommunityRepo(core.db)
        self._discussions = discussions
        # (server, member) who may have a review outcome to hear: read at start, added to by every
        # review, so the check after each command costs no database trip for everyone else.
        self._unheard: set[tuple[int, int]] = set()

    async def start(self) -> None:
        """Posts a stop left claimed but unrecorded go out now (found in the channel if already sent)."""
        self._unheard = await self._repo.unheard_authors()
        for recap in await self._repo.claimed_posts():
            try:
                await self._post(recap, resume=True)
            except discord.HTTPException as exc:
                log.warning("recap %d: could not post it yet (%s)", recap.id, exc)
        for recap_id in await self._repo.unnotified_dms():
            await self.notify_author(recap_id)

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
        recap_id = await self._repo.submit(
            interaction.guild_id, drama.slug, episode, interaction.user.id, name, title, body[:4000]
        )
        await interaction.response.send_message(submitted_text(drama, episode), ephemeral=True)
        await self._tell_mods(interaction.guild_id, recap_id, drama, episode, interaction.user.id)

    async def _tell_mods(self, guild_id: int, recap_id: int, drama: Drama, episode: int, author_id: int) -> None:
        """A spoiler-free notice with a Review button in the mods channel: nobody has to remember to look."""
        guild = self._client.get_guild(guild_id)
        settings = await self._settings.get(guild_id)
        channel = guild.get_channel(settings.mods_channel_id) if guild and settings.mods_channel_id else None
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            await channel.send(
                submission_notice(recap_id, drama, drama.slug, episode, author_id),
                view=queue_view(),
                nonce=nonce("recap-notice", recap_id),
            )
        except discord.HTTPException as exc:
            log.warning("recap %d: could not tell the moderators (%s)", recap_id, exc)

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
        self._unheard.add((recap.guild_id, recap.author_id))
        await self.show_queue(interaction, edit=interaction.message is not None)
        if state == "approved":
            fresh = await self._repo.get(recap_id)
            if fresh is not None:
                try:
                    await self._post(fresh)
                except discord.HTTPException as exc:  # claimed: it goes out at the next start
                    log.warning("recap %d: could not post it yet (%s)", recap_id, exc)
        await self.notify_author(recap_id)

    async def _target(self, recap: CommunityRecap) -> int | None:
        thread = (await self._discussions.thread_links(recap.guild_id, recap.drama)).get(recap.episode)
        if thread:
            return thread
        settings = await self._settings.get(recap.guild_id)
        return settings.recaps_channel_id

    async def _post(self, recap: CommunityRecap, *, resume: bool = False) -> None:
        """Post an approved recap exactly once: claimed before, recorded after; a resumed post is
        looked for in the channel first (Discord's nonce dedupe lasts only minutes)."""
        if not await self._repo.claim_post(recap.id) and not resume:
            return
        target = await self._target(recap)
        if target is None:
            await self._repo.posted(recap.id, None, None)  # nowhere to post: it shows in /recap
            return
        mark = f"{POST_MARK}{recap.id} "

        def ours(message: discord.Message) -> bool:
            return any((e.footer.text or "").startswith(mark) for e in message.embeds)

        found = await find_sent(self._client, target, ours) if resume else None
        if found is None:
            drama = self._lookups.catalog.dramas.get(recap.drama)
            found = await self._client.get_partial_messageable(target).send(
                embed=recap_post_embed(recap, drama), nonce=nonce("recap-post", recap.id)
            )
        await self._repo.posted(recap.id, target, found.id)

    async def notify_author(self, recap_id: int) -> None:
        """By DM where the author allows it; otherwise on their next use of the bot. Exactly once: the
        DM is claimed before it is sent, and a retry (after a stop) looks for it in the DM channel."""
        recap = await self._repo.get(recap_id)
        if recap is None:
            return
        text = outcome_text(recap, self._lookups.catalog.dramas.get(recap.drama))
        try:
            user = self._client.get_user(recap.author_id) or await self._client.fetch_user(recap.author_id)
            channel = user.dm_channel or await user.create_dm()
            if await self._repo.notice_claimed(recap_id) and await self._dm_sent(channel.id, text):
                await self._repo.notified(recap_id)
                return
            await self._repo.claim_notice(recap_id)
            await channel.send(text, nonce=nonce("recap-dm", recap_id))
        except discord.HTTPException as exc:
            log.info("recap %d: no DM to the author (%s); they'll hear on their next command", recap_id, exc)
            return
        await self._repo.notified(recap_id)

    async def _dm_sent(self, channel_id: int, text: str) -> bool:
        return await find_sent(self._client, channel_id, lambda m: m.content == text) is not None

    async def pending_notices(self, interaction: discord.Interaction[Any]) -> None:
        """After any command: tell the member about reviews they haven't heard of (ephemeral)."""
        if interaction.guild_id is None:
            return
        who = (interaction.guild_id, interaction.user.id)
        if who not in self._unheard:
            return
        self._unheard.discard(who)  # before the read: a review decided meanwhile adds it back
        heard = False
        try:
            for recap in await self._repo.unnotified(interaction.guild_id, interaction.user.id):
                if await self._repo.notice_claimed(recap.id):  # a DM may have gone out before a stop
                    text = outcome_text(recap, self._lookups.catalog.dramas.get(recap.drama))
                    try:
                        channel = interaction.user.dm_channel or await interaction.user.create_dm()
                        if await self._dm_sent(channel.id, text):
                            await self._repo.notified(recap.id)
                            continue
                    except discord.HTTPException:
                        pass
                try:
                    await interaction.followup.send(
                        outcome_text(recap, self._lookups.catalog.dramas.get(recap.drama)), ephemeral=True
                    )
                except discord.HTTPException:
                    return
                await self._repo.notified(recap.id)
            heard = True
        finally:
            if not heard:
                self._unheard.add(who)  # the next command tries again
