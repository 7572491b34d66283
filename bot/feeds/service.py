"""Polling recap feeds and posting new items exactly once.

Each feed is one perpetual job: it polls, then asks to run again after the feed's interval (or
its backoff after a failure). The first poll of a new feed only records what exists. A new item
that matches an episode is *claimed* in SQLite (with everything needed to post it) before any
post, and marked sent with the message id after; the post carries a deterministic nonce, so a
resend after a crash is recognised by Discord instead of duplicated. On start, claimed-but-unsent
items are sent again with the same nonce. No duplicates and no losses across crashes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.catalog import Drama
from bot.core import Core, CoreService
from bot.discussions import Discussions
from bot.errors import InvalidInput, NotModerator, permission_for_forbidden
from bot.feeds.discover import Linked, linked_feeds
from bot.feeds.fetch import Fetcher, FetchError, check_url
from bot.feeds.match import match_title
from bot.feeds.parse import ParseError, excerpt, parse
from bot.nonce import nonce
from bot.notices import ModNotices
from bot.recovery import find_sent
from bot.scheduling import RetryLater
from bot.service import JobKind
from bot.settings import Settings
from bot.storage.feeds import Feed, FeedsRepo, Item, RecapLinksRepo, RecapSources, RecapSourcesRepo
from bot.storage.jobs import Job
from bot.text import quote
from bot.timeparse import parse_episodes
from bot.ui.feeds import SAMPLE_ITEM, check_template, feed_item_embed, render_template, source_name

log = logging.getLogger(__name__)

POLL = "feed.poll"
RECOVER = "feed.recover"
MAX_FAILURES = 5
BACKOFF_CAP = timedelta(hours=6)


@dataclass(frozen=True)
class PollOutcome:
    status: str  # "new" | "not modified" | "primed" | "failed" | "disabled"
    new: int = 0
    posted: int = 0
    unmatched: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Preview:
    title: str
    link: str
    match: tuple[Drama, int, int] | None


@dataclass(frozen=True)
class Checked:
    """What `/feeds add` found at an address: the feed to add, or (`choices`) several to pick from."""

    url: str
    title: str | None
    choices: list[Linked]


@dataclass(frozen=True)
class Added:
    feed: Feed  # after its first poll
    reenabled: bool  # a disabled feed with this address was turned back on


@dataclass(frozen=True)
class Edited:
    feed: Feed
    preview: str | None  # the template rendered from the feed's latest item (or a sample)


CLEAR = ("none", "off", "-")


def parse_words(text: str, option: str) -> str | None:
    """`a, b ,c` → `a,b,c` (lower case); `none` clears."""
    if text.strip().lower() in CLEAR:
        return None
    words = [" ".join(w.split()).lower() for w in text.split(",")]
    words = [w for w in words if w]
    if not words:
        raise InvalidInput(f"`{option}`: give comma-separated words, like `recap, review`, or `none` to clear.")
    if any(len(w) > 50 for w in words) or len(words) > 20:
        raise InvalidInput(f"`{option}`: at most 20 words of at most 50 characters each.")
    return ",".join(dict.fromkeys(words))


def passes_filters(feed: Feed, title: str) -> bool:
    """Posted only if the title has one of the include words (when set) and none of the exclude words."""
    folded = title.casefold()
    if feed.include_words and not any(w in folded for w in feed.include_words.split(",")):
        return False
    return not (feed.exclude_words and any(w in folded for w in feed.exclude_words.split(",")))


class Feeds(CoreService):
    def __init__(self, core: Core, *, config: Settings, notices: ModNotices, discussions: Discussions) -> None:
        super().__init__(core)
        self._config = config
        self._notices = notices
        self._discussions = discussions
        self._repo = FeedsRepo(core.db)
        self._links = RecapLinksRepo(core.db)
        self._sources = RecapSourcesRepo(core.db)
        self._fetcher = Fetcher(allow_private=config.feeds_allow_private)
        self._locks: dict[int, asyncio.Lock] = {}

    def jobs(self) -> Sequence[JobKind]:
        a_late_poll_is_still_a_poll = timedelta(days=3650)
        return [
            JobKind(POLL, self.run_job, a_late_poll_is_still_a_poll),
            JobKind(RECOVER, self.recover_job, a_late_poll_is_still_a_poll),
        ]

    async def start(self) -> None:
        """At start: resend what a crash left claimed (once ready), and make sure every active feed polls."""
        now = self._clock.now()
        # This process's servers only (several processes may share the database): each recovers what
        # it left claimed, never what another process is posting right now.
        shards = self._config.my_shards
        await self._scheduler.schedule(
            RECOVER,
            {"shards": list(shards), "count": self._config.shard_count} if shards is not None else {},
            now,
            dedupe_key=f"feeds:recover:{self._config.name}",
        )
        # Each feed polls when it is next due (at once if that has passed): a restart does not poll
        # every feed of every server at the same moment. One transaction for all of them; a feed
        # whose poll job is already there keeps it (its time is the feed's own: nothing to move).
        await self._scheduler.ensure_many(
            POLL,
            [
                ({"feed_id": feed_id, "guild_id": guild_id}, max(next_poll or now, now), f"feed:{feed_id}")
                for feed_id, guild_id, next_poll in await self._repo.poll_times()
            ],
            move=False,
        )

    async def close(self) -> None:
        await self._fetcher.close()

    # -- feeds ----------------------------------------------------------------------------------
    async def interval(self, guild_id: int) -> timedelta:
        if self._config.feeds_poll_seconds:
            return timedelta(seconds=self._config.feeds_poll_seconds)
        settings = await self._settings.get(guild_id)
        return timedelta(minutes=max(5, settings.feed_interval_minutes))

    async def _schedule(self, feed: Feed, due: datetime) -> None:
        await self._scheduler.ensure(
            POLL, {"feed_id": feed.id, "guild_id": feed.guild_id}, due, dedupe_key=f"feed:{feed.id}"
        )

    async def check(self, url: str) -> Checked:
        """`/feeds add` fetches first: a feed is returned as is; an HTML page gives the feeds it links
        to (checked in turn when there is one). A URL that fails — 404, refused, not a feed and linking
        to none — raises InvalidInput with the reason, and nothing is stored."""
        try:
            await check_url(url, self._fetcher.allow_private)
        except FetchError as error:
            raise InvalidInput(f"`url`: {error}") from None
        try:
            result = await self._fetcher.fetch(url)
        except FetchError as error:
            raise InvalidInput(f"`url`: I couldn't fetch it: {error}. Nothing was saved.") from None
        try:
            title, _entries = await parse(result.body)
            return Checked(url, title, [])
        except ParseError as error:
            found = linked_feeds(result.body, result.url)
            if not found:
                raise InvalidInput(
                    f"`url`: that address is not an RSS or Atom feed ({error}), and the page links to no feed. "
                    "Look on the site for an RSS link. Nothing was saved."
                ) from None
        if len(found) > 1:
            return Checked(url, None, found)
        return await self.check(found[0].url) if found[0].url != url else Checked(url, None, [])

    async def add_and_poll(
        self, guild_id: int, url: str, drama: str | None, channel_id: int | None, user_id: int
    ) -> Added:
        """`/feeds add`: store (or re-enable) the feed and poll it once (a new feed's first poll
        records what exists and posts nothing). A refused address raises InvalidInput."""
        try:
            feed, reenabled = await self.add(guild_id, url, drama, channel_id, user_id)
        except FetchError as error:
            raise InvalidInput(f"`url`: {error}") from None
        await self.first_poll(feed)
        return Added(await self._repo.get(feed.id) or feed, reenabled)

    async def for_guild(self, guild_id: int) -> list[Feed]:
        return await self._repo.for_guild(guild_id)

    async def find(self, guild_id: int, text: str) -> Feed:
        """The server's feed named by number (`#3`, `3`) or address; InvalidInput when none is."""
        wanted = text.strip().lstrip("#")
        for feed in await self._repo.for_guild(guild_id):
            if str(feed.id) == wanted or feed.url == text.strip():
                return feed
        raise InvalidInput(f"`feed`: no feed {quote(text, 80)} on this server; `/feeds list` shows them.")

    async def remove_named(self, guild_id: int, text: str) -> Feed:
        """`/feeds remove`: the feed named by number or address stops; returns it."""
        feed = await self.find(guild_id, text)
        await self.remove(feed)
        return feed

    async def choices(self, guild_id: int, typed: str) -> list[tuple[str, str]]:
        """(label, value) of the server's feeds matching what was typed, for autocomplete."""
        feeds = await self._repo.for_guild(guild_id)
        labels = [(f"#{f.id} {f.url}", str(f.id)) for f in feeds]
        return [(label[:100], value) for label, value in labels if typed.lower() in label.lower()][:25]

    async def recap_sources(self, guild_id: int, user_id: int, drama: str, episode: int) -> RecapSources:
        """Everything `/recap` shows from the server's state — the recap links matched from feeds, and
        with them the episode threads, the approved community recaps and the asker's progress — read
        in one statement (one database trip per `/recap`, where asking each feature costs four)."""
        return await self._sources.for_episode(guild_id, user_id, drama, episode)

    async def add(
        self, guild_id: int, url: str, drama: str | None, channel_id: int | None, user_id: int
    ) -> tuple[Feed, bool]:
        """Add (or re-enable) a feed without polling it. Returns (feed, re-enabled)."""
        await check_url(url, self._fetcher.allow_private)
        existing = await self._repo.by_url(guild_id, url)
        if existing is not None:
            if existing.state == "disabled":
                await self._repo.enable(existing.id)
                feed = await self._repo.get(existing.id)
                assert feed is not None
                return feed, True
            return existing, False
        return await self._repo.add(guild_id, url, drama, channel_id, user_id), False

    async def first_poll(self, feed: Feed) -> PollOutcome:
        """Poll now (a new feed's first poll records what exists), then schedule the next one."""
        outcome = await self.poll(feed)
        refreshed = await self._repo.get(feed.id)
        if refreshed is not None and refreshed.state == "active":
            await self._schedule(refreshed, refreshed.next_poll or self._clock.now())
        return outcome

    async def remove(self, feed: Feed) -> None:
        await self._scheduler.cancel_key(f"feed:{feed.id}")
        await self._repo.remove(feed.id)

    async def edit(
        self, guild_id: int, text: str, template: str | None, include: str | None, exclude: str | None
    ) -> Edited:
        """`/feeds edit`: set (or with `none` clear) a feed's post template and title filters."""
        feed = await self.find(guild_id, text)
        if template is not None:
            template = None if template.strip().lower() in CLEAR else check_template(template)
        else:
            template = feed.template
        include_words = parse_words(include, "include") if include is not None else feed.include_words
        exclude_words = parse_words(exclude, "exclude") if exclude is not None else feed.exclude_words
        await self._repo.set_format(feed.id, template, include_words, exclude_words)
        edited = await self._repo.get(feed.id)
        assert edited is not None
        preview = None
        if template:
            item = await self._repo.latest_item(feed.id) or SAMPLE_ITEM
            drama = self._lookups.catalog.dramas.get(item.drama or "")
            preview = render_template(template, item, drama, feed.title or source_name(feed.url))
        return Edited(edited, preview)

    # -- /feeds unmatched -----------------------------------------------------------------------
    async def unmatched(self, guild_id: int) -> list[tuple[Item, str]]:
        """The server's recent unmatched items (newest first, at most 25) with their feed's name."""
        feeds = {f.id: f for f in await self._repo.for_guild(guild_id)}
        out = []
        for item in await self._repo.unmatched(guild_id):
            feed = feeds.get(item.feed_id)
            if feed is not None:
                out.append((item, feed.title or source_name(feed.url)))
        return out

    async def unmatched_item(self, interaction: discord.Interaction[Any], item_id: int) -> Item:
        """The unmatched item picked, after checking (again) that the user is a moderator."""
        if not await self._settings.is_moderator(interaction):
            raise NotModerator()
        item = await self._repo.item(item_id)
        feed = await self._repo.get(item.feed_id) if item else None
        if item is None or feed is None or feed.guild_id != interaction.guild_id:
            raise InvalidInput("That item is gone; run `/feeds unmatched` again.")
        if item.state != "skipped":
            raise InvalidInput("That item was already assigned or dismissed; run `/feeds unmatched` again.")
        return item

    async def check_assign(
        self, interaction: discord.Interaction[Any], item_id: int, drama: Drama, episodes: str
    ) -> tuple[int, int]:
        """The form's episode (range), checked against the drama; the moderator checked again."""
        await self.unmatched_item(interaction, item_id)
        return parse_episodes(episodes, drama.episode_count, drama.title, option="episode")

    async def assign(
        self, interaction: discord.Interaction[Any], item_id: int, drama: Drama, first: int, last: int
    ) -> bool:
        """Claim an unmatched item for an episode (range), index its link for `/recap`, and post it
        once, as a matched item is (claim → send → mark sent). True when it went out now."""
        item = await self.unmatched_item(interaction, item_id)
        feed = await self._repo.get(item.feed_id)
        assert feed is not None
        lock = self._locks.setdefault(feed.id, asyncio.Lock())
        async with lock:
            if not await self._repo.assign(item_id, drama.slug, first, last):
                raise InvalidInput("That item was already assigned or dismissed; run `/feeds unmatched` again.")
            if item.link:
                await self._links.add_range(
                    feed.guild_id,
                    drama.slug,
                    first,
                    last,
                    item.link,
                    item.title or drama.title,
                    feed.title or source_name(feed.url),
                )
            claimed = await self._repo.item(item_id)
            assert claimed is not None
            return await self._send(feed, claimed, look_first=False)

    async def dismiss(self, interaction: discord.Interaction[Any], item_id: int) -> Item:
        """Dismiss an unmatched item (a moderator, checked again): it is not listed again."""
        item = await self.unmatched_item(interaction, item_id)
        if not await self._repo.dismiss(item_id):
            raise InvalidInput("That item was already assigned or dismissed; run `/feeds unmatched` again.")
        return item

    # -- polling --------------------------------------------------------------------------------
    async def run_job(self, job: Job) -> None:
        feed = await self._repo.get(job.payload["feed_id"])
        if feed is None or feed.state != "active":
            return  # removed or disabled: the job ends
        try:
            outcome = await self.poll(feed)
        except Exception as error:  # a bug must not stop the feed silently: count it as a failure
            log.exception("feed %d: unexpected error while polling", feed.id)
            outcome = await self._failed(
                feed, f"internal error ({type(error).__name__})", False, await self.interval(feed.guild_id)
            )
        if outcome.status == "disabled":
            return
        refreshed = await self._repo.get(feed.id)
        if refreshed is not None and refreshed.next_poll is not None:
            raise RetryLater(max(refreshed.next_poll - self._clock.now(), timedelta(seconds=1)), "next poll")

    async def poll(self, feed: Feed) -> PollOutcome:
        lock = self._locks.setdefault(feed.id, asyncio.Lock())
        async with lock:
            fresh = await self._repo.get(feed.id)  # another poll may have just run
            if fresh is None or fresh.state != "active":
                return PollOutcome("disabled")
            return await self._poll(fresh)

    async def _poll(self, feed: Feed) -> PollOutcome:
        now = self._clock.now()
        interval = await self.interval(feed.guild_id)
        try:
            result = await self._fetcher.fetch(feed.url, feed.etag, feed.last_modified)
            if result.status == 304:
                await self._repo.not_modified(feed.id, now, now + interval)
                return PollOutcome("not modified")
            title, entries = await parse(result.body)
        except (FetchError, ParseError) as error:
            return await self._failed(feed, str(error), getattr(error, "permanent", False), interval)
        only = self._lookups.catalog.dramas.get(feed.drama) if feed.drama else None
        keys = [e.key for e in entries]
        known = await self._repo.known_keys(feed.id, keys)
        new = unmatched = 0
        fresh: set[str] = set()  # claimed by this poll: certainly not sent yet
        for entry in reversed(entries):  # oldest first, as feeds list newest first
            if entry.key in known:
                continue
            new += 1
            kept = passes_filters(feed, entry.title)
            matched = match_title(entry.title, self._lookups, only) if feed.primed and kept else None
            state = "claimed" if matched else ("seen" if not feed.primed else "skipped" if kept else "filtered")
            unmatched += state in ("skipped", "filtered")
            drama, first, last = matched if matched else (None, None, None)
            item = Item(
                feed_id=feed.id,
                key=entry.key,
                state=state,
                title=entry.title,
                link=entry.link,
                author=entry.author,
                published=entry.published,
                excerpt=excerpt(entry.summary) if state in ("claimed", "skipped") else "",
                drama=drama.slug if drama else None,
                first_ep=first,
                last_ep=last,
            )
            recorded = await self._repo.record(item)
            if recorded and state == "claimed":
                fresh.add(item.key)
            if recorded and matched and entry.link:
                drama, first, last = matched
                await self._links.add_range(
                    feed.guild_id,
                    drama.slug,
                    first,
                    last,
                    entry.link,
                    entry.title or drama.title,
                    title or source_name(feed.url),
                )
        await self._repo.succeeded(
            feed.id,
            title=title,
            etag=result.etag,
            last_modified=result.last_modified,
            now=now,
            next_poll=now + interval,
        )
        if not feed.primed:
            return PollOutcome("primed", new=new)
        posted = await self.deliver(feed.id, fresh=fresh)
        return PollOutcome("new", new=new, posted=posted, unmatched=unmatched)

    async def _failed(self, feed: Feed, error: str, permanent: bool, interval: timedelta) -> PollOutcome:
        now = self._clock.now()
        delay = min(interval * (2**feed.failures), BACKOFF_CAP)
        failures = await self._repo.failed(feed.id, error, now, now + delay)
        log.warning("feed %d (%s) failed (%d in a row): %s", feed.id, feed.url, failures, error)
        if permanent or failures >= MAX_FAILURES:
            reason = error if permanent else f"{failures} failures in a row; the last: {error}"
            await self._repo.disable(feed.id, reason)
            guild = self._client.get_guild(feed.guild_id)
            if guild is not None:
                await self._notices.notify(
                    guild,
                    f"feed:{feed.id}:disabled",
                    f"I stopped polling the feed {feed.url} ({reason}). When it works again, run "
                    f"`/feeds add url:{feed.url}` to turn it back on.",
                )
            return PollOutcome("disabled", error=error)
        return PollOutcome("failed", error=error)

    # -- posting --------------------------------------------------------------------------------
    async def recover_job(self, job: Job) -> None:
        shards, count = job.payload.get("shards"), job.payload.get("count")
        mine = (frozenset(shards), count) if isinstance(shards, list) and isinstance(count, int) else None
        sent = await self.deliver(None, shards=mine)
        if sent:
            log.info("resent %d feed item(s) left claimed by a stop", sent)

    async def deliver(
        self,
        feed_id: int | None,
        *,
        fresh: set[str] | frozenset[str] = frozenset(),
        shards: tuple[frozenset[int], int] | None = None,
    ) -> int:
        """Send every claimed, unsent item (of one feed, or all; with `shards` (ids, count), only of
        servers on those shards); returns how many were sent. Items in `fresh` were claimed by the
        poll calling this, so they cannot be out already: they are sent without first looking for
        them in the channel's history."""
        sent = 0
        feeds: dict[int, Feed | None] = {}
        for item in await self._repo.claimed(feed_id):
            if item.feed_id not in feeds:
                feeds[item.feed_id] = await self._repo.get(item.feed_id)
            feed = feeds[item.feed_id]
            if feed is None:
                continue
            if shards is not None and (feed.guild_id >> 22) % shards[1] not in shards[0]:
                continue
            if await self._send(feed, item, look_first=item.key not in fresh):
                sent += 1
        return sent

    async def _target(self, feed: Feed, item: Item) -> int | None:
        if item.drama and item.first_ep:
            thread = (await self._discussions.thread_links(feed.guild_id, item.drama)).get(item.first_ep)
            if thread:
                return thread
        if feed.channel_id:
            return feed.channel_id
        settings = await self._settings.get(feed.guild_id)
        return settings.recaps_channel_id

    async def _send(self, feed: Feed, item: Item, *, look_first: bool = True) -> bool:
        drama = self._lookups.catalog.dramas.get(item.drama or "")
        target = await self._target(feed, item)
        guild = self._client.get_guild(feed.guild_id)
        if target is None:
            if guild is not None:
                await self._notices.notify(
                    guild,
                    "feeds:no-channel",
                    "New recaps are waiting but there is nowhere to post them: set `/settings channel kind:recaps` "
                    "or give the feed a channel.",
                )
            return False
        source = feed.title or source_name(feed.url)
        embed = feed_item_embed(item, drama, source)
        text = render_template(feed.template, item, drama, source) if feed.template else None
        channel = self._client.get_partial_messageable(target)
        try:
            # A claimed item may already be out (a stop between the post and `mark_sent`), and
            # Discord dedupes the nonce only for minutes: look for our post of it before sending.
            message = await find_sent(self._client, target, lambda m: _same_post(m, embed)) if look_first else None
            if message is not None:
                await self._repo.mark_sent(feed.id, item.key, message.id)
                return True
            message = await channel.send(content=text, embed=embed, nonce=nonce("feed", feed.id, item.key))
        except discord.NotFound:
            if target != feed.channel_id and feed.channel_id:  # the thread is gone: post in the channel
                message = await self._client.get_partial_messageable(feed.channel_id).send(
                    content=text, embed=embed, nonce=nonce("feed", feed.id, item.key, "channel")
                )
            else:
                log.warning("feed %d: channel %s is gone; item kept for later", feed.id, target)
                return False
        except discord.Forbidden as error:
            if guild is not None:
                missing = permission_for_forbidden(error, guild)
                await self._notices.notify(
                    guild,
                    f"feeds:forbidden:{target}",
                    f"I can't post new recaps in <#{target}>: I need **{missing.permission}** there. "
                    "They wait and go out once I can.",
                )
            return False
        await self._repo.mark_sent(feed.id, item.key, message.id)
        return True

    # -- /feeds test ----------------------------------------------------------------------------
    async def preview(self, url: str, drama: Drama | None) -> tuple[str | None, list[Preview]]:
        """Fetch once and show what would be matched; posts nothing, stores nothing."""
        result = await self._fetcher.fetch(url)
        title, entries = await parse(result.body)
        return title, [Preview(e.title, e.link, match_title(e.title, self._lookups, drama)) for e in entries]


def _same_post(message: discord.Message, embed: discord.Embed) -> bool:
    """Our post of a feed item: its embed has the item's link (else title) and footer (drama, episodes, source)."""
    if not message.embeds:
        return False
    posted = message.embeds[0]
    same_link = posted.url == embed.url if embed.url else posted.title == embed.title
    return same_link and posted.footer.text == embed.footer.text
