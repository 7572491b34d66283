"""Episode discussion threads: one per (server, drama, episode), opened at air time or on request.

Opening is a sequence of idempotent steps, each recorded in SQLite before moving on, so a retry
after a crash or a missing permission resumes where it stopped and never makes a second thread:
claim the row → find our thread (an orphan from an interrupted run is adopted by name) or create it
→ the starter message (found again in the thread, or posted) → the announcement (posted with a
deterministic nonce, and on a retry first looked for in the channel: the nonce only dedupes for
minutes) → neighbours' links and the pinned index. One lock per episode serialises concurrent
requests in the process.

Older episode threads are archived by then (after a day of quiet, by default), and Discord refuses
edits in an archived thread (50083): a neighbour link or the index inside one is edited after
unarchiving the thread, which is archived again right after. In a forum, posts may need a tag
(REQUIRE_TAG), and only one post can be pinned (30047): the index post gets the drama's tag and is
pinned only while no other post is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
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
from bot.recovery import find_sent, first_line
from bot.scheduling import RetryLater
from bot.service import JobKind
from bot.storage.discussions import FollowsRepo, IndexRepo, RatingsRepo, RatingSummary, ThreadsRepo
from bot.storage.guild_settings import GuildSettings
from bot.storage.jobs import Job
from bot.text import escape
from bot.ui.discussions import announcement_text, index_text, rating_view, starter_embed, thread_name

log = logging.getLogger(__name__)

JOB_KIND = "thread.open"
OPEN_GRACE = timedelta(days=2)  # opened late after downtime, if at most this late
QUIET_AFTER = timedelta(days=7)  # `/discuss` of an episode older than this opens its thread without an announcement
NO_ANNOUNCEMENT = 0  # recorded as the announcement of a thread opened quietly
OPEN_WINDOW = timedelta(minutes=10)
MEMBER_OPENS = 3  # threads a member (not a moderator) may open with /discuss per OPEN_WINDOW
DRAMA_OPENS = 5  # threads members may open per drama per OPEN_WINDOW
RETRY_PERMISSION = timedelta(minutes=15)
RETRY_UNCONFIGURED = timedelta(hours=1)
FORUM_TAG_LIMIT = 20
FORUM_TAG_NAME = 20  # characters in a forum tag's name
# Discord's JSON error codes (discord-api-docs, topics/opcodes-and-status-codes.mdx).
ARCHIVED_THREAD = 50083  # "Tried to perform an operation on an archived thread"
TAG_REQUIRED = 40067  # "A tag is required to create a forum post in this channel"
MAX_PINS = 30003  # "Maximum number of pins reached for the channel"
MAX_PINNED_THREADS = 30047  # "Maximum number of pinned threads in a forum channel has been reached"


class NotConfigured(UserError):
    def __init__(self) -> None:
        super().__init__(
            "No discussions channel is set. A moderator can choose one with "
            "`/settings channel kind:discussions channel:#…` (a text or forum channel)."
        )


class TagRequired(UserError):
    """A forum that only takes tagged posts, and no tag of ours exists or can be made there."""

    def __init__(self, forum_id: int, tag: str) -> None:
        self.forum_id = forum_id
        super().__init__(
            f"<#{forum_id}> only takes posts with a tag, and I couldn't create one: give me the "
            f"**Manage Channels** permission there (I create the drama and episode tags), or create a tag "
            f"named `{tag}`."
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

    action: Literal["exists", "not aired", "refused", "slow", "open"]
    thread_id: int | None = None
    quiet: bool = False  # an old episode: open its thread without announcing it
    wait_minutes: int = 0  # "slow": when the member may open another


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
        self._opens: dict[tuple[str, int, int | str], deque[datetime]] = {}

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
        return await self._follows.followers(drama)

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
        moderator = await self._settings.is_moderator(interaction)
        if not (settings.members_open_threads or moderator):
            return DiscussPlan("refused")
        if not moderator:
            wait = self._opened_recently(guild.id, interaction.user.id, drama.slug)
            if wait:
                return DiscussPlan("slow", wait_minutes=wait)
        parent = guild.get_channel(settings.discussions_channel_id) if settings.discussions_channel_id else None
        if not isinstance(parent, discord.TextChannel | discord.ForumChannel):
            # Said now, privately: once `/discuss` has deferred publicly, Discord would show an error
            # to everyone (a follow-up after a public defer can't be ephemeral).
            raise NotConfigured()
        if isinstance(parent, discord.ForumChannel) and parent.flags.require_tag:
            wanted = drama.title[:FORUM_TAG_NAME]
            have = {t.name for t in parent.available_tags}
            if wanted not in have and not parent.permissions_for(guild.me).manage_channels:
                raise TagRequired(parent.id, wanted)
        quiet = self._clock.now() - episode.air_at > QUIET_AFTER
        return DiscussPlan("open", quiet=quiet)

    def _opened_recently(self, guild_id: int, user_id: int, drama: str) -> int:
        """Minutes until a member may open another thread (0: now). Members open at most
        MEMBER_OPENS threads in OPEN_WINDOW, and at most DRAMA_OPENS per drama, so a burst of `/discuss`
        can't fill a channel; each call that may open counts."""
        now = self._clock.now()
        mine = self._opens.setdefault(("user", guild_id, user_id), deque())
        theirs = self._opens.setdefault(("drama", guild_id, drama), deque())
        for stamps in (mine, theirs):
            while stamps and now - stamps[0] > OPEN_WINDOW:
                stamps.popleft()
        for stamps, limit in ((mine, MEMBER_OPENS), (theirs, DRAMA_OPENS)):
            if len(stamps) >= limit:
                return max(1, int((OPEN_WINDOW - (now - stamps[0])).total_seconds() // 60) + 1)
        mine.append(now)
        theirs.append(now)
        return 0

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
        now = self._clock.now()
        airing: dict[str, Drama | None] = {}  # slug → the drama, if it still has an episode to air
        for guild_id, slug in await self._follows.all():
            if slug not in airing:
                drama = self._lookups.catalog.dramas.get(slug)
                airing[slug] = drama if drama is not None and drama.next_episode(now) is not None else None
            found = airing[slug]
            if found is not None:  # a finished drama has no opening to schedule: skip its follows at once
                await self.schedule(guild_id, found)

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
            await self.open(guild, drama, episode, retry=True)  # a job may resume an opening a stop cut short
        except TagRequired as error:
            await self._notices.notify(guild, f"tag-required:{error.forum_id}", error.message)
            raise RetryLater(RETRY_PERMISSION, "the forum requires a tag") from None
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

    async def open(
        self, guild: discord.Guild, drama: Drama, episode: Episode, *, quiet: bool = False, retry: bool = False
    ) -> tuple[int, bool]:
        """Make sure the episode's thread exists and is complete (`quiet`: without an announcement,
        for an old episode). Returns (thread id, created now)."""
        async with self._lock(guild.id, drama.slug, episode.number):
            try:
                return await self._open(guild, drama, episode, quiet, retry)
            except discord.Forbidden as error:
                missing = permission_for_forbidden(error, guild)
                where = f" in <#{missing.channel_id}>" if missing.channel_id else ""
                await self._notices.notify(
                    guild,
                    f"forbidden:{missing.permission}:{missing.channel_id}",
                    f"I couldn't open the thread for **{drama.title}** episode {episode.number}: I need the "
                    f"**{missing.permission}** permission{where}. I'll keep trying every 15 minutes.",
                )
                raise

    async def _open(
        self, guild: discord.Guild, drama: Drama, episode: Episode, quiet: bool = False, retry: bool = False
    ) -> tuple[int, bool]:
        row = await self._threads.get(guild.id, drama.slug, episode.number)
        thread_id = await self.existing(guild, drama, episode)
        if thread_id is None and row is not None and row.thread_id is not None:
            row = None  # it was deleted on Discord and has just been forgotten: start afresh
        if thread_id is not None and row is not None and row.starter_message_id and row.announcement_id is not None:
            # Every step is recorded but the last two, the neighbours' links and the index, are not:
            # a stop between them and here loses them, so a retry (the job after a crash) makes them
            # again. Both are edits in place of what is there: idempotent.
            if retry:
                await self._relink(guild, drama, (episode.number - 1, episode.number + 1))
                await self.refresh_index(guild, drama)
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
        episode = await self._lookups.episode_texts(drama, episode)  # its synopsis, for the starter post
        name = thread_name(drama, episode)
        created = False
        thread: discord.Thread | None = guild.get_thread(thread_id) if thread_id else None
        if thread_id is None:
            thread = self._orphan(parent, name)
        starter_id = row.starter_message_id if row and thread_id else None
        if thread is None and thread_id is None:
            archive = archive_duration(settings.thread_archive_minutes)
            if isinstance(parent, discord.ForumChannel):
                wanted = [drama.title[:FORUM_TAG_NAME], f"Episode {episode.number}"]
                tags = await self._forum_tags(guild, parent, wanted)
                if parent.flags.require_tag and not tags:
                    raise TagRequired(parent.id, wanted[0])
                try:
                    post = await parent.create_thread(
                        name=name,
                        embed=starter_embed(drama, episode, links, summary),
                        view=rating_view(drama, episode),
                        applied_tags=tags,
                        auto_archive_duration=archive,
                    )
                except discord.HTTPException as error:
                    if error.code == TAG_REQUIRED:  # the forum started requiring tags since we looked
                        raise TagRequired(parent.id, wanted[0]) from None
                    raise
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
        if quiet and (row is None or row.announcement_id is None):
            await self._threads.set_messages(guild.id, drama.slug, episode.number, announcement=NO_ANNOUNCEMENT)
        elif row is None or row.announcement_id is None:
            # A row from an earlier attempt: the announcement may be out, unrecorded (a crash).
            retry = row is not None
            announcement = await self._announce(guild, parent, settings, drama, episode, thread_id, retry=retry)
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
        embed = starter_embed(drama, episode, links, summary)  # the caller filled in its synopsis
        found = await find_sent(
            self._client, thread_id, lambda m: bool(m.embeds) and m.embeds[0].title == embed.title, limit=10
        )
        if found is not None:  # posted before a stop, never recorded
            return found.id
        message = await channel.send(embed=embed, view=rating_view(drama, episode), nonce=nonce("starter", thread_id))
        return message.id

    async def _announce(
        self,
        guild: discord.Guild,
        parent: discord.abc.GuildChannel,
        settings: GuildSettings,
        drama: Drama,
        episode: Episode,
        thread_id: int,
        *,
        retry: bool = False,
    ) -> int | None:
        target = guild.get_channel(settings.announcements_channel_id) if settings.announcements_channel_id else None
        if target is None and isinstance(parent, discord.TextChannel):
            target = parent
        if not isinstance(target, discord.TextChannel):
            return None  # a forum post announces itself
        text = announcement_text(drama, episode, thread_id)
        if retry:  # the nonce dedupes only for minutes: look for the announcement itself first
            sent = await find_sent(self._client, target.id, lambda m: m.content == text, since=episode.air_at)
            if sent is not None:
                return sent.id
        message = await target.send(text, nonce=nonce("announce", guild.id, drama.slug, episode.number, thread_id))
        return message.id

    async def _forum_tags(
        self, guild: discord.Guild, forum: discord.ForumChannel, wanted: list[str]
    ) -> list[discord.ForumTag]:
        """The tags named `wanted` (the drama's, the episode's), created when missing, within
        Discord's limits of 20 tags per forum and 20 characters per name."""
        wanted = [name[:FORUM_TAG_NAME] for name in wanted if name]
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
            episode = await self._lookups.episode_texts(drama, episode)
            try:
                await self._edit(
                    row.thread_id, row.starter_message_id, embed=starter_embed(drama, episode, links, summary)
                )
            except discord.NotFound:
                continue  # that thread was deleted; it is forgotten when next asked for
            except discord.Forbidden:
                log.warning("cannot edit the starter of %s ep %d (locked?)", drama.slug, number)

    async def _edit(self, channel_id: int, message_id: int, **fields: Any) -> None:
        """Edit a message of ours. Discord refuses an edit in an archived thread (400, 50083;
        discord-api-docs topics/threads.mdx, Active & Archived Threads), so then the thread is
        unarchived (the bot created it, or has Manage Threads for a locked one), the message edited,
        and the thread archived again, as it was. A locked thread the bot may not reopen keeps the
        old text, with a note in the log."""
        message = self._client.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(**fields)
            return
        except discord.HTTPException as error:
            if error.code != ARCHIVED_THREAD:
                raise
        thread = await self._client.fetch_channel(channel_id)
        if not isinstance(thread, discord.Thread):
            return
        try:
            thread = await thread.edit(archived=False)
        except discord.Forbidden:
            log.info("thread %s is archived and locked: message %s keeps its old text", channel_id, message_id)
            return
        try:
            await message.edit(**fields)
        finally:
            with contextlib.suppress(discord.HTTPException):
                await thread.edit(archived=True)

    async def refresh_index(self, guild: discord.Guild, drama: Drama) -> None:
        """Create or edit in place the pinned index of the drama's threads."""
        links = await self.thread_links(guild.id, drama.slug)
        text = index_text(drama, links, await self._ratings.summaries(guild.id, drama.slug))
        stored = await self._index.get(guild.id, drama.slug)
        if stored is not None:
            try:
                await self._edit(stored[0], stored[1], content=text)
                return
            except discord.NotFound:
                pass  # deleted by someone: post a new one
        settings = await self._settings.get(guild.id)
        parent = guild.get_channel(settings.discussions_channel_id) if settings.discussions_channel_id else None
        try:
            if isinstance(parent, discord.ForumChannel):
                await self._forum_index(guild, parent, drama, text)
            elif isinstance(parent, discord.TextChannel):
                await self._text_index(guild, parent, drama, text)
        except discord.Forbidden as error:
            missing = permission_for_forbidden(error, guild)
            await self._notices.notify(
                guild,
                f"index:{missing.permission}",
                f"I couldn't post or pin the episode index for **{drama.title}**: I need the "
                f"**{missing.permission}** permission in <#{missing.channel_id or (parent.id if parent else 0)}>.",
            )
        except TagRequired as error:
            await self._notices.notify(guild, f"tag-required:{error.forum_id}", error.message)

    async def _text_index(self, guild: discord.Guild, channel: discord.TextChannel, drama: Drama, text: str) -> None:
        # Posted before a crash but never recorded? The nonce no longer helps after minutes: look first.
        head = first_line(text)
        message = await find_sent(self._client, channel.id, lambda m: first_line(m.content) == head)
        if message is None:
            message = await channel.send(text, nonce=nonce("index", guild.id, drama.slug))
        await self._index.set(guild.id, drama.slug, channel.id, message.id)
        if message.pinned:
            return
        try:
            await message.pin(reason=f"Dramawatch index of {drama.title} episode threads")
        except discord.HTTPException as error:
            if error.code != MAX_PINS:
                raise
            await self._notices.notify(
                guild,
                f"pins-full:{channel.id}",
                f"{channel.mention} has as many pinned messages as Discord allows, so the episode index for "
                f"**{drama.title}** is not pinned. Unpin an old message and the next index is pinned.",
            )

    async def _forum_index(self, guild: discord.Guild, forum: discord.ForumChannel, drama: Drama, text: str) -> None:
        name = f"{drama.title[:80]} · all episodes"
        me = self._client.user.id if self._client.user else None
        thread = next((t for t in forum.threads if t.name == name and t.owner_id == me), None)  # an orphan post
        if thread is not None:
            message_id = thread.id  # a forum post's first message shares the thread's id
            await self._edit(thread.id, message_id, content=text)
        else:
            tag_name = drama.title[:FORUM_TAG_NAME]
            tags = await self._forum_tags(guild, forum, [tag_name])
            if forum.flags.require_tag and not tags:
                raise TagRequired(forum.id, tag_name)
            try:
                post = await forum.create_thread(name=name, content=text, applied_tags=tags)
            except discord.HTTPException as error:
                if error.code == TAG_REQUIRED:
                    raise TagRequired(forum.id, tag_name) from None
                raise
            thread, message_id = post.thread, post.message.id
        await self._index.set(guild.id, drama.slug, thread.id, message_id)
        # One pinned post per forum (30047): pin this index only while no other post is pinned.
        if thread.flags.pinned or any(t.flags.pinned for t in forum.threads if t.id != thread.id):
            return
        try:
            await thread.edit(pinned=True)
        except discord.HTTPException as error:
            if error.code != MAX_PINNED_THREADS:
                raise
            log.info("forum %s already has its pinned post; the index of %s stays unpinned", forum.id, drama.slug)

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
        episode = await self._lookups.episode_texts(drama, episode)
        await interaction.response.edit_message(embed=starter_embed(drama, episode, links, summary))
        await interaction.followup.send(
            f"Your rating of {escape(drama.title)} episode {number}: {stars} ★. Click another button to change it.",
            ephemeral=True,
        )
        await self.refresh_index(guild, drama)
