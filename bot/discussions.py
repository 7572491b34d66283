"""Episode discussion threads: one per (server, drama, episode), opened at air time or on request.

Opening is a sequence of idempotent steps, each recorded in SQLite before moving on, so a retry
after a crash or a missing permission resumes where it stopped and never makes a second thread:
claim the row → find our thread (an orphan from an interrupted run is adopted by name) or create it
→ the starter message (found again in the thread, or posted) → the announcement (posted with a
deterministic nonce) → neighbours' links and the pinned index. One lock per episode serialises
concurrent requests in the process.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import timedelta
from typing import Any

import discord

from bot.catalog import Drama, Episode
from bot.errors import UserError, permission_for_forbidden
from bot.scheduling import RetryLater
from bot.storage.discussions import FollowsRepo, IndexRepo, RatingsRepo, RatingSummary, ThreadsRepo
from bot.storage.jobs import Job
from bot.ui.discussions import announcement_text, index_text, rating_view, starter_embed, thread_name

log = logging.getLogger(__name__)

JOB_KIND = "thread.open"
OPEN_GRACE = timedelta(days=2)  # opened late after downtime, if at most this late
RETRY_PERMISSION = timedelta(minutes=15)
RETRY_UNCONFIGURED = timedelta(hours=1)
NOTICE_EVERY = 6 * 3600  # seconds between repeats of the same warning to moderators
FORUM_TAG_LIMIT = 20


class NotConfigured(UserError):
    def __init__(self) -> None:
        super().__init__(
            "No discussions channel is set. A moderator can choose one with "
            "`/settings channel kind:discussions channel:#…` (a text or forum channel)."
        )


def job_key(guild_id: int, drama: str, episode: int) -> str:
    return f"thread:{guild_id}:{drama}:{episode}"


def nonce(*parts: object) -> str:
    """A deterministic nonce (Discord allows 25 characters) so a retried send is not duplicated."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:25]


class Discussions:
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        db = bot.db
        self.follows = FollowsRepo(db)
        self.threads = ThreadsRepo(db)
        self.index = IndexRepo(db)
        self.ratings = RatingsRepo(db)
        self._locks: dict[tuple[int, str, int], asyncio.Lock] = {}
        self._notices: dict[tuple[int, str], float] = {}

    # -- following ------------------------------------------------------------------------------
    async def follow(self, guild_id: int, drama: Drama) -> tuple[bool, int]:
        """Follow; schedules an opening job per upcoming episode. Returns (newly followed, jobs)."""
        added = await self.follows.add(guild_id, drama.slug)
        return added, await self.schedule(guild_id, drama)

    async def unfollow(self, guild_id: int, drama: Drama) -> bool:
        removed = await self.follows.remove(guild_id, drama.slug)
        for episode in drama.episodes:
            await self.bot.scheduler.cancel_key(job_key(guild_id, drama.slug, episode.number))
        return removed

    async def schedule(self, guild_id: int, drama: Drama) -> int:
        """One job per episode that has not aired yet (aired ones are not opened automatically)."""
        now = self.bot.clock.now()
        count = 0
        for episode in drama.episodes:
            if episode.air_at <= now:
                continue
            payload = {"guild_id": guild_id, "drama": drama.slug, "episode": episode.number}
            await self.bot.scheduler.ensure(
                JOB_KIND, payload, episode.air_at, dedupe_key=job_key(guild_id, drama.slug, episode.number)
            )
            count += 1
        return count

    async def reconcile(self) -> None:
        """At start: keep every follow's jobs in step with the packs (dates may have been corrected)."""
        for guild_id, slug in await self.follows.all():
            drama = self.bot.catalog.dramas.get(slug)
            if drama is not None:
                await self.schedule(guild_id, drama)

    async def run_job(self, job: Job) -> None:
        guild = self.bot.get_guild(job.payload["guild_id"])
        drama = self.bot.catalog.dramas.get(job.payload["drama"])
        if guild is None or drama is None:
            log.info("job %d: server or drama gone; nothing to open", job.id)
            return
        if not await self.follows.is_following(guild.id, drama.slug):
            return
        episode = drama.episode(job.payload["episode"])
        if episode is None:
            return
        try:
            await self.open(guild, drama, episode)
        except NotConfigured:
            await self.notify_mods(
                guild,
                "no-discussions",
                f"I couldn't open the thread for **{drama.title}** episode {episode.number}: no discussions "
                "channel is set. Choose one with `/settings channel kind:discussions`; I'll try again in an hour.",
            )
            raise RetryLater(RETRY_UNCONFIGURED, "no discussions channel set") from None
        except discord.Forbidden as error:
            raise RetryLater(RETRY_PERMISSION, f"missing permission: {error.text}") from None

    # -- threads --------------------------------------------------------------------------------
    def _lock(self, guild_id: int, drama: str, episode: int) -> asyncio.Lock:
        return self._locks.setdefault((guild_id, drama, episode), asyncio.Lock())

    async def existing(self, guild: discord.Guild, drama: Drama, episode: Episode) -> int | None:
        """The episode's thread id if it still exists on Discord (a deleted one is forgotten)."""
        row = await self.threads.get(guild.id, drama.slug, episode.number)
        if row is None or row.thread_id is None:
            return None
        if guild.get_thread(row.thread_id) is not None:
            return row.thread_id
        try:
            await self.bot.fetch_channel(row.thread_id)
        except discord.NotFound:
            await self.threads.forget(guild.id, drama.slug, episode.number)
            log.info("thread %s for %s ep %d was deleted; forgotten", row.thread_id, drama.slug, episode.number)
            return None
        return row.thread_id

    async def thread_links(self, guild_id: int, drama: str) -> dict[int, int]:
        """Episode number → thread id, from the database (no Discord call: for links in replies)."""
        return {n: row.thread_id for n, row in (await self.threads.for_drama(guild_id, drama)).items() if row.thread_id}

    async def open(self, guild: discord.Guild, drama: Drama, episode: Episode) -> tuple[int, bool]:
        """Make sure the episode's thread exists and is complete. Returns (thread id, created now)."""
        async with self._lock(guild.id, drama.slug, episode.number):
            try:
                return await self._open(guild, drama, episode)
            except discord.Forbidden as error:
                missing = permission_for_forbidden(error)
                where = f" in <#{missing.channel_id}>" if missing.channel_id else ""
                await self.notify_mods(
                    guild,
                    f"forbidden:{missing.permission}:{missing.channel_id}",
                    f"I couldn't open the thread for **{drama.title}** episode {episode.number}: I need the "
                    f"**{missing.permission}** permission{where}. I'll keep trying every 15 minutes.",
                )
                raise

    async def _open(self, guild: discord.Guild, drama: Drama, episode: Episode) -> tuple[int, bool]:
        row = await self.threads.get(guild.id, drama.slug, episode.number)
        thread_id = await self.existing(guild, drama, episode)
        if thread_id is None and row is not None and row.thread_id is not None:
            row = None  # it was deleted on Discord and has just been forgotten: start afresh
        if thread_id is not None and row is not None and row.starter_message_id and row.announcement_id:
            return thread_id, False
        settings = await self.bot.guild_settings.get(guild.id)
        parent = guild.get_channel(settings.discussions_channel_id) if settings.discussions_channel_id else None
        if row is not None and row.thread_id is not None and thread_id is not None:
            parent = guild.get_channel(row.parent_id) or parent  # finish where it was started
        if not isinstance(parent, discord.TextChannel | discord.ForumChannel):
            raise NotConfigured()
        await self.threads.claim(guild.id, drama.slug, episode.number, parent.id)
        links = await self.thread_links(guild.id, drama.slug)
        summary = await self.ratings.summary(guild.id, drama.slug, episode.number)
        name = thread_name(drama, episode)
        created = False
        thread: discord.Thread | None = guild.get_thread(thread_id) if thread_id else None
        if thread_id is None:
            thread = self._orphan(parent, name)
        starter_id = row.starter_message_id if row and thread_id else None
        if thread is None and thread_id is None:
            archive = settings.thread_archive_minutes
            if isinstance(parent, discord.ForumChannel):
                tags = await self._forum_tags(guild, parent, drama, episode)
                post = await parent.create_thread(
                    name=name,
                    embed=starter_embed(drama, episode, links, summary),
                    view=rating_view(drama, episode),
                    applied_tags=tags,
                    auto_archive_duration=archive,
                )
                thread, starter_id = post.thread, post.message.id
            else:
                thread = await parent.create_thread(
                    name=name, type=discord.ChannelType.public_thread, auto_archive_duration=archive
                )
            created = True
        thread_id = thread.id if thread is not None else thread_id
        assert thread_id is not None
        await self.threads.set_thread(guild.id, drama.slug, episode.number, thread_id)
        links[episode.number] = thread_id
        if starter_id is None:
            starter_id = await self._starter(thread_id, drama, episode, links, summary)
        await self.threads.set_messages(guild.id, drama.slug, episode.number, starter=starter_id)
        if row is None or row.announcement_id is None:
            announcement = await self._announce(guild, parent, settings, drama, episode, thread_id)
            if announcement is not None:
                await self.threads.set_messages(guild.id, drama.slug, episode.number, announcement=announcement)
        await self._relink(guild, drama, (episode.number - 1, episode.number + 1))
        await self.refresh_index(guild, drama)
        return thread_id, created

    def _orphan(self, parent: discord.TextChannel | discord.ForumChannel, name: str) -> discord.Thread | None:
        """A thread of ours with this name from an interrupted run (created, not yet recorded)."""
        me = self.bot.user.id if self.bot.user else None
        return next((t for t in parent.threads if t.name == name and t.owner_id == me), None)

    async def _starter(
        self, thread_id: int, drama: Drama, episode: Episode, links: dict[int, int], summary: RatingSummary
    ) -> int:
        channel = self.bot.get_partial_messageable(thread_id)
        title = f"{drama.title} · Episode {episode.number}"
        me = self.bot.user.id if self.bot.user else None
        async for message in channel.history(limit=10):
            if message.author.id == me and message.embeds and message.embeds[0].title == title:
                return message.id
        message = await channel.send(
            embed=starter_embed(drama, episode, links, summary),
            view=rating_view(drama, episode),
            nonce=nonce("starter", thread_id),
        )
        return message.id

    async def _announce(
        self,
        guild: discord.Guild,
        parent: discord.abc.GuildChannel,
        settings: Any,
        drama: Drama,
        episode: Episode,
        thread_id: int,
    ) -> int | None:
        target = guild.get_channel(settings.announcements_channel_id) if settings.announcements_channel_id else None
        if target is None and isinstance(parent, discord.TextChannel):
            target = parent
        if not isinstance(target, discord.TextChannel):
            return None  # a forum post announces itself
        message = await target.send(
            announcement_text(drama, episode, thread_id),
            nonce=nonce("announce", guild.id, drama.slug, episode.number, thread_id),
        )
        return message.id

    async def _forum_tags(
        self, guild: discord.Guild, forum: discord.ForumChannel, drama: Drama, episode: Episode
    ) -> list[discord.ForumTag]:
        """The drama's and the episode's tags, created when missing, within Discord's 20-tag limit."""
        wanted = [drama.title[:20], f"Episode {episode.number}"]
        have = {t.name: t for t in forum.available_tags}
        missing = [n for n in wanted if n not in have]
        room = FORUM_TAG_LIMIT - len(forum.available_tags)
        if missing and room > 0:
            new = [discord.ForumTag(name=n) for n in missing[:room]]
            try:
                forum = await forum.edit(available_tags=[*forum.available_tags, *new])  # type: ignore[assignment]
            except discord.Forbidden:  # creating tags needs Manage Channels: post with the tags that exist
                await self.notify_mods(
                    guild,
                    f"tags-permission:{forum.id}",
                    f"I need the **Manage Channels** permission in {forum.mention} to create the drama and episode "
                    "tags; until then new posts only get the tags that already exist.",
                )
                return [have[n] for n in wanted if n in have]
            have = {t.name: t for t in forum.available_tags}
        if len(missing) > room:
            await self.notify_mods(
                guild,
                f"tags:{forum.id}",
                f"{forum.mention} has {FORUM_TAG_LIMIT} tags, Discord's limit, so new episode "
                "posts go without some tags. Remove unused tags to let me add them.",
            )
        return [have[n] for n in wanted if n in have]

    async def _relink(self, guild: discord.Guild, drama: Drama, numbers: tuple[int, ...]) -> None:
        """Edit the neighbouring episodes' starter messages so they link this thread."""
        rows = await self.threads.for_drama(guild.id, drama.slug)
        links = {n: r.thread_id for n, r in rows.items() if r.thread_id}
        for number in numbers:
            row, episode = rows.get(number), drama.episode(number)
            if row is None or episode is None or not row.thread_id or not row.starter_message_id:
                continue
            summary = await self.ratings.summary(guild.id, drama.slug, number)
            message = self.bot.get_partial_messageable(row.thread_id).get_partial_message(row.starter_message_id)
            try:
                await message.edit(embed=starter_embed(drama, episode, links, summary))
            except discord.NotFound:
                continue  # that thread was deleted; it is forgotten when next asked for
            except discord.Forbidden:
                log.warning("cannot edit the starter of %s ep %d (archived or locked?)", drama.slug, number)

    async def refresh_index(self, guild: discord.Guild, drama: Drama) -> None:
        """Create or edit in place the pinned index of the drama's threads."""
        links = await self.thread_links(guild.id, drama.slug)
        text = index_text(drama, links, await self.ratings.summaries(guild.id, drama.slug))
        stored = await self.index.get(guild.id, drama.slug)
        if stored is not None:
            try:
                await self.bot.get_partial_messageable(stored[0]).get_partial_message(stored[1]).edit(content=text)
                return
            except discord.NotFound:
                pass  # deleted by someone: post a new one
        settings = await self.bot.guild_settings.get(guild.id)
        parent = guild.get_channel(settings.discussions_channel_id) if settings.discussions_channel_id else None
        try:
            if isinstance(parent, discord.ForumChannel):
                post = await parent.create_thread(name=f"{drama.title[:80]} · all episodes", content=text)
                await self.index.set(guild.id, drama.slug, post.thread.id, post.message.id)
                await post.thread.edit(pinned=True)
            elif isinstance(parent, discord.TextChannel):
                message = await parent.send(text, nonce=nonce("index", guild.id, drama.slug))
                await self.index.set(guild.id, drama.slug, parent.id, message.id)
                await message.pin(reason=f"Dramawatch index of {drama.title} episode threads")
        except discord.Forbidden as error:
            missing = permission_for_forbidden(error)
            await self.notify_mods(
                guild,
                f"index:{missing.permission}",
                f"I couldn't post or pin the episode index for **{drama.title}**: I need the "
                f"**{missing.permission}** permission in <#{missing.channel_id or parent.id}>.",
            )

    # -- ratings --------------------------------------------------------------------------------
    async def vote(self, interaction: discord.Interaction[Any], drama_slug: str, number: int, stars: int) -> None:
        guild = interaction.guild
        drama = self.bot.catalog.dramas.get(drama_slug)
        episode = drama.episode(number) if drama else None
        if guild is None or drama is None or episode is None:
            raise UserError("This episode is no longer in the catalog, so it can't be rated.")
        await self.ratings.vote(guild.id, drama.slug, number, interaction.user.id, stars)
        summary = await self.ratings.summary(guild.id, drama.slug, number)
        links = await self.thread_links(guild.id, drama.slug)
        await interaction.response.edit_message(embed=starter_embed(drama, episode, links, summary))
        await interaction.followup.send(
            f"You rated {drama.title} episode {number} {stars} ★. Click another button to change your vote.",
            ephemeral=True,
        )
        await self.refresh_index(guild, drama)

    # -- moderators -----------------------------------------------------------------------------
    async def notify_mods(self, guild: discord.Guild, key: str, text: str) -> None:
        """Tell the moderators (mods channel), at most once every few hours per problem; never raise."""
        now = time.monotonic()
        last = self._notices.get((guild.id, key))
        if last is not None and now - last < NOTICE_EVERY:
            return
        self._notices[(guild.id, key)] = now
        settings = await self.bot.guild_settings.get(guild.id)
        channel = guild.get_channel(settings.mods_channel_id) if settings.mods_channel_id else None
        log.warning("guild %s: %s", guild.id, text)
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            await channel.send(f"⚠️ {text}")
        except discord.HTTPException as exc:
            log.warning("could not warn the moderators of guild %s: %s", guild.id, exc)
