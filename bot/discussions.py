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
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import discord

from bot.catalog import Drama, Episode
from bot.core import Core, CoreService
from bot.errors import UserError, permission_for_forbidden
from bot.nonce import nonce
from bot.notices import ModNotices
from bot.scheduling import RetryLater
from bot.service import JobKind
from bot.storage.discussions import FollowsRepo, IndexRepo, RatingsRepo, RatingSummary, ThreadsRepo
from bot.storage.guild_settings import GuildSettings
from bot.storage.jobs import Job
from bot.ui.discussions import announcement_text, index_text, rating_view, starter_embed, thread_name

log = logging.getLogger(__name__)

JOB_KIND = "thread.open"
OPEN_GRACE = timedelta(days=2)  # opened late after downtime, if at most this late
RETRY_PERMISSION = timedelta(minutes=15)
RETRY_UNCONFIGURED = timedelta(hours=1)
FORUM_TAG_LIMIT = 20


class NotConfigured(UserError):
    def __init__(self) -> None:
        super().__init__(
            "No discussions channel is set. A moderator can choose one with "
            "`/settings channel kind:discussions channel:#…` (a text or forum channel)."
        )


ArchiveMinutes = Literal[60, 1440, 4320, 10080]
ARCHIVE_MINUTES: tuple[ArchiveMinutes, ...] = (60, 1440, 4320, 10080)


def archive_duration(minutes: int) -> ArchiveMinutes:
    """The auto-archive duration Discord allows that is closest to `minutes` (at least it)."""
    return next((m for m in ARCHIVE_MINUTES if m >= minutes), ARCHIVE_MINUTES[-1])


def job_key(guild_id: int, drama: str, episode: int) -> str:
    return f"thread:{guild_id}:{drama}:{episode}"


@dataclass(frozen=True)
class FollowResult:
    added: bool  # False: the server already followed it
    jobs: int  # episode openings scheduled
    upcoming: Episode | None  # the next episode to air, if any
    has_channel: bool  # a discussions channel is set


@dataclass(frozen=True)
class Followed:
    slug: str
    drama: Drama | None  # None: no longer in the catalog


@dataclass(frozen=True)
class DiscussPlan:
    """What `/discuss` should do: link an existing thread, explain, refuse, or open one."""

    action: Literal["exists", "not aired", "refused", "open"]
    thread_id: int | None = None


@dataclass(frozen=True)
class Airing:
    at: datetime
    drama: Drama
    episode: Episode


class Discussions(CoreService):
    def __init__(self, core: Core, *, notices: ModNotices) -> None:
        super().__init__(core)
        self._notices = notices
        self._follows = FollowsRepo(core.db)
        self._threads = ThreadsRepo(core.db)
        self._index = IndexRepo(core.db)
        self._ratings = RatingsRepo(core.db)
        self._locks: dict[tuple[int, str, int], asyncio.Lock] = {}

    # -- lifecycle --------------------------------------------------------------------------------
    def jobs(self) -> Sequence[JobKind]:
        return [JobKind(JOB_KIND, self.run_job, OPEN_GRACE)]

    async def start(self) -> None:
        await self.reconcile()

    # -- following ------------------------------------------------------------------------------
    async def follow(self, guild_id: int, drama: Drama) -> FollowResult:
        """Follow; schedules an opening job per upcoming episode."""
        added = await self._follows.add(guild_id, drama.slug)
        jobs = await self.schedule(guild_id, drama)
        settings = await self._settings.get(guild_id)
        return FollowResult(
            added=added,
            jobs=jobs,
            upcoming=drama.next_episode(self._clock.now()),
            has_channel=bool(settings.discussions_channel_id),
        )

    async def followers(self, drama: str) -> list[int]:
        """The servers that follow `drama`."""
        return [guild_id for guild_id, slug in await self._follows.all() if slug == drama]

    async def is_following(self, guild_id: int, drama: str) -> bool:
        return await self._follows.is_following(guild_id, drama)

    async def followed(self, guild_id: int) -> list[Followed]:
        """The dramas this server follows, in the order they were followed."""
        dramas = self._lookups.catalog.dramas
        return [Followed(slug, dramas.get(slug)) for slug in await self._follows.list(guild_id)]

    async def airing(self, guild_id: int, days: int) -> tuple[list[Airing], bool]:
        """Episodes of followed dramas airing in the next `days` days, soonest first; and whether
        the server follows anything at all."""
        now = self._clock.now()
        until = now + timedelta(days=days)
        followed = await self.followed(guild_id)
        rows = [
            Airing(e.air_at, f.drama, e)
            for f in followed
            if f.drama is not None
            for e in f.drama.episodes
            if now <= e.air_at <= until
        ]
        rows.sort(key=lambda r: (r.at, r.drama.title, r.episode.number))
        return rows, bool(followed)

    async def plan_discuss(
        self, interaction: discord.Interaction[Any], guild: discord.Guild, drama: Drama, episode: Episode
    ) -> DiscussPlan:
        """Decide what `/discuss` does, before anything slow happens (so the reply can be deferred)."""
        thread_id = await self.existing(guild, drama, episode)
        if thread_id is not None:
            return DiscussPlan("exists", thread_id)
        if not episode.aired(self._clock.now()):
            return DiscussPlan("not aired")
        settings = await self._settings.get(guild.id)
        if not (settings.members_open_threads or await self._settings.is_moderator(interaction)):
            return DiscussPlan("refused")
        return DiscussPlan("open")

    async def thread_deleted(self, guild_id: int, thread_id: int) -> None:
        """A thread deleted on Discord: forget it and correct the index; the next request reopens it."""
        row = await self._threads.by_thread(thread_id)
        guild = self._client.get_guild(guild_id)
        if row is None or guild is None:
            return
        await self._threads.forget(row.guild_id, row.drama, row.episode)
        drama = self._lookups.catalog.dramas.get(row.drama)
        if drama is not None:
            await self.refresh_index(guild, drama)

    async def unfollow(self, guild_id: int, drama: Drama) -> bool:
        removed = await self._follows.remove(guild_id, drama.slug)
        for episode in drama.episodes:
            await self._scheduler.cancel_key(job_key(guild_id, drama.slug, episode.number))
        return removed

    async def schedule(self, guild_id: int, drama: Drama) -> int:
        """One job per episode that has not aired yet (aired ones are not opened automatically)."""
        now = self._clock.now()
        count = 0
        for episode in drama.episodes:
            if episode.air_at <= now:
                continue
            payload = {"guild_id": guild_id, "drama": drama.slug, "episode": episode.number}
            await self._scheduler.ensure(
                JOB_KIND, payload, episode.air_at, dedupe_key=job_key(guild_id, drama.slug, episode.number)
            )
            count += 1
        return count

    async def reconcile(self) -> None:
        """At start: keep every follow's jobs in step with the packs (dates may have been corrected)."""
        for guild_id, slug in await self._follows.all():
            drama = self._lookups.catalog.dramas.get(slug)
            if drama is not None:
                await self.schedule(guild_id, drama)

    async def run_job(self, job: Job) -> None:
        guild = self._client.get_guild(job.payload["guild_id"])
        drama = self._lookups.catalog.dramas.get(job.payload["drama"])
        if guild is None or drama is None:
            log.info("job %d: server or drama gone; nothing to open", job.id)
            return
        if not await self._follows.is_following(guild.id, drama.slug):
            return
        episode = drama.episode(job.payload["episode"])
        if episode is None:
            return
        try:
            await self.open(guild, drama, episode)
        except NotConfigured:
            await self._notices.notify(
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
        row = await self._threads.get(guild.id, drama.slug, episode.number)
        if row is None or row.thread_id is None:
            return None
        if guild.get_thread(row.thread_id) is not None:
            return row.thread_id
        try:
            await self._client.fetch_channel(row.thread_id)
        except discord.NotFound:
            await self._threads.forget(guild.id, drama.slug, episode.number)
            log.info("thread %s for %s ep %d was deleted; forgotten", row.thread_id, drama.slug, episode.number)
            return None
        return row.thread_id

    async def thread_links(self, guild_id: int, drama: str) -> dict[int, int]:
        """Episode number → thread id, from the database (no Discord call: for links in replies)."""
        return {
            n: row.thread_id for n, row in (await self._threads.for_drama(guild_id, drama)).items() if row.thread_id
        }

    async def open(self, guild: discord.Guild, drama: Drama, episode: Episode) -> tuple[int, bool]:
        """Make sure the episode's thread exists and is complete. Returns (thread id, created now)."""
        async with self._lock(guild.id, drama.slug, episode.number):
            try:
                return await self._open(guild, drama, episode)
            except discord.Forbidden as error:
                missing = permission_for_forbidden(error)
                where = f" in <#{missing.channel_id}>" if missing.channel_id else ""
                await self._notices.notify(
                    guild,
                    f"forbidden:{missing.permission}:{missing.channel_id}",
                    f"I couldn't open the thread for **{drama.title}** episode {episode.number}: I need the "
                    f"**{missing.permission}** permission{where}. I'll keep trying every 15 minutes.",
                )
                raise

    async def _open(self, guild: discord.Guild, drama: Drama, episode: Episode) -> tuple[int, bool]:
        row = await self._threads.get(guild.id, drama.slug, episode.number)
        thread_id = await self.existing(guild, drama, episode)
        if thread_id is None and row is not None and row.thread_id is not None:
            row = None  # it was deleted on Discord and has just been forgotten: start afresh
        if thread_id is not None and row is not None and row.starter_message_id and row.announcement_id:
            return thread_id, False
        settings = await self._settings.get(guild.id)
        parent = guild.get_channel(settings.discussions_channel_id) if settings.discussions_channel_id else None
        if row is not None and row.thread_id is not None and thread_id is not None:
            parent = guild.get_channel(row.parent_id) or parent  # finish where it was started
        if not isinstance(parent, discord.TextChannel | discord.ForumChannel):
            raise NotConfigured()
        await self._threads.claim(guild.id, drama.slug, episode.number, parent.id)
        links = await self.thread_links(guild.id, drama.slug)
        summary = await self._ratings.summary(guild.id, drama.slug, episode.number)
        name = thread_name(drama, episode)
        created = False
        thread: discord.Thread | None = guild.get_thread(thread_id) if thread_id else None
        if thread_id is None:
            thread = self._orphan(parent, name)
        starter_id = row.starter_message_id if row and thread_id else None
        if thread is None and thread_id is None:
            archive = archive_duration(settings.thread_archive_minutes)
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
        await self._threads.set_thread(guild.id, drama.slug, episode.number, thread_id)
        links[episode.number] = thread_id
        if starter_id is None:
            starter_id = await self._starter(thread_id, drama, episode, links, summary)
        await self._threads.set_messages(guild.id, drama.slug, episode.number, starter=starter_id)
        if row is None or row.announcement_id is None:
            announcement = await self._announce(guild, parent, settings, drama, episode, thread_id)
            if announcement is not None:
                await self._threads.set_messages(guild.id, drama.slug, episode.number, announcement=announcement)
        await self._relink(guild, drama, (episode.number - 1, episode.number + 1))
        await self.refresh_index(guild, drama)
        return thread_id, created

    def _orphan(self, parent: discord.TextChannel | discord.ForumChannel, name: str) -> discord.Thread | None:
        """A thread of ours with this name from an interrupted run (created, not yet recorded)."""
        me = self._client.user.id if self._client.user else None
        return next((t for t in parent.threads if t.name == name and t.owner_id == me), None)

    async def _starter(
        self, thread_id: int, drama: Drama, episode: Episode, links: dict[int, int], summary: RatingSummary
    ) -> int:
        channel = self._client.get_partial_messageable(thread_id)
        title = f"{drama.title} · Episode {episode.number}"
        me = self._client.user.id if self._client.user else None
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
        settings: GuildSettings,
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
                forum = await forum.edit(available_tags=[*forum.available_tags, *new])
            except discord.Forbidden:  # creating tags needs Manage Channels: post with the tags that exist
                await self._notices.notify(
                    guild,
                    f"tags-permission:{forum.id}",
                    f"I need the **Manage Channels** permission in {forum.mention} to create the drama and episode "
                    "tags; until then new posts only get the tags that already exist.",
                )
                return [have[n] for n in wanted if n in have]
            have = {t.name: t for t in forum.available_tags}
        if len(missing) > room:
            await self._notices.notify(
                guild,
                f"tags:{forum.id}",
                f"{forum.mention} has {FORUM_TAG_LIMIT} tags, Discord's limit, so new episode "
                "posts go without some tags. Remove unused tags to let me add them.",
            )
        return [have[n] for n in wanted if n in have]

    async def _relink(self, guild: discord.Guild, drama: Drama, numbers: tuple[int, ...]) -> None:
        """Edit the neighbouring episodes' starter messages so they link this thread."""
        rows = await self._threads.for_drama(guild.id, drama.slug)
        links = {n: r.thread_id for n, r in rows.items() if r.thread_id}
        for number in numbers:
            row, episode = rows.get(number), drama.episode(number)
            if row is None or episode is None or not row.thread_id or not row.starter_message_id:
                continue
            summary = await self._ratings.summary(guild.id, drama.slug, number)
            message = self._client.get_partial_messageable(row.thread_id).get_partial_message(row.starter_message_id)
            try:
                await message.edit(embed=starter_embed(drama, episode, links, summary))
            except discord.NotFound:
                continue  # that thread was deleted; it is forgotten when next asked for
            except discord.Forbidden:
                log.warning("cannot edit the starter of %s ep %d (archived or locked?)", drama.slug, number)

    async def refresh_index(self, guild: discord.Guild, drama: Drama) -> None:
        """Create or edit in place the pinned index of the drama's threads."""
        links = await self.thread_links(guild.id, drama.slug)
        text = index_text(drama, links, await self._ratings.summaries(guild.id, drama.slug))
        stored = await self._index.get(guild.id, drama.slug)
        if stored is not None:
            try:
                await self._client.get_partial_messageable(stored[0]).get_partial_message(stored[1]).edit(content=text)
                return
            except discord.NotFound:
                pass  # deleted by someone: post a new one
        settings = await self._settings.get(guild.id)
        parent = guild.get_channel(settings.discussions_channel_id) if settings.discussions_channel_id else None
        try:
            if isinstance(parent, discord.ForumChannel):
                post = await parent.create_thread(name=f"{drama.title[:80]} · all episodes", content=text)
                await self._index.set(guild.id, drama.slug, post.thread.id, post.message.id)
                await post.thread.edit(pinned=True)
            elif isinstance(parent, discord.TextChannel):
                message = await parent.send(text, nonce=nonce("index", guild.id, drama.slug))
                await self._index.set(guild.id, drama.slug, parent.id, message.id)
                await message.pin(reason=f"Dramawatch index of {drama.title} episode threads")
        except discord.Forbidden as error:
            missing = permission_for_forbidden(error)
            await self._notices.notify(
                guild,
                f"index:{missing.permission}",
                f"I couldn't post or pin the episode index for **{drama.title}**: I need the "
                f"**{missing.permission}** permission in <#{missing.channel_id or (parent.id if parent else 0)}>.",
            )

    # -- ratings --------------------------------------------------------------------------------
    async def vote(self, interaction: discord.Interaction[Any], drama_slug: str, number: int, stars: int) -> None:
        guild = interaction.guild
        drama = self._lookups.catalog.dramas.get(drama_slug)
        episode = drama.episode(number) if drama else None
        if guild is None or drama is None or episode is None:
            raise UserError("This episode is no longer in the catalog, so it can't be rated.")
        await self._ratings.vote(guild.id, drama.slug, number, interaction.user.id, stars)
        summary = await self._ratings.summary(guild.id, drama.slug, number)
        links = await self.thread_links(guild.id, drama.slug)
        await interaction.response.edit_message(embed=starter_embed(drama, episode, links, summary))
        await interaction.followup.send(
            f"You rated {drama.title} episode {number} {stars} ★. Click another button to change your vote.",
            ephemeral=True,
        )
        await self.refresh_index(guild, drama)
