"""What members ask most — `/recap`, `/who`, `/drama` — each answered by one call here.

This service gathers what an answer needs from the catalog and the other services (progress,
episode threads, recap links from feeds, approved community recaps) and decides what may be shown
plainly; `bot.ui` renders the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.catalog import Catalog, Character, Drama, Episode, Person
from bot.catalog.models import Role
from bot.catalog.search import Hit
from bot.community import Community
from bot.discussions import Discussions
from bot.errors import NotFound
from bot.feeds.service import Feeds
from bot.lookups import Lookups, target_value
from bot.progress import Progress
from bot.scheduling import Clock
from bot.service import Service
from bot.spoilers import may_show_plain
from bot.storage.community import CommunityRecap


@dataclass(frozen=True, kw_only=True)
class RecapAnswer:
    drama: Drama
    episode: Episode
    guessed_from: str | None  # the typed text, when a typo was resolved
    aired: bool
    plain: bool = False  # the synopsis may be shown without spoiler bars
    thread_id: int | None = None
    links: list[tuple[str, str, str]] | None = None  # (title, url, source) from feeds
    community: list[CommunityRecap] | None = None


@dataclass(frozen=True)
class CharacterCard:
    catalog: Catalog
    drama: Drama
    character: Character
    watched: int  # facts up to this episode are unlocked
    plain: bool


@dataclass(frozen=True)
class PersonCard:
    person: Person
    roles: list[Role]


Card = CharacterCard | PersonCard


@dataclass(frozen=True)
class WhoAnswer:
    card: Card | None  # one match
    options: list[tuple[str, str]]  # several matches: (label, value) to pick from


@dataclass(frozen=True)
class DramaAnswer:
    catalog: Catalog
    drama: Drama
    threads: dict[int, int]
    now: datetime


class Answers(Service):
    def __init__(
        self,
        *,
        lookups: Lookups,
        clock: Clock,
        progress: Progress,
        discussions: Discussions,
        feeds: Feeds,
        community: Community,
    ) -> None:
        self._lookups = lookups
        self._clock = clock
        self._progress = progress
        self._discussions = discussions
        self._feeds = feeds
        self._community = community

    async def recap(
        self, *, guild_id: int | None, user_id: int, channel_id: int | None, drama: str, episode: int, private: bool
    ) -> RecapAnswer:
        resolved = self._lookups.drama(drama)
        found = resolved.drama
        ep = self._lookups.episode(found, episode)
        if not ep.aired(self._clock.now()):
            return RecapAnswer(drama=found, episode=ep, guessed_from=resolved.guessed_from, aired=False)
        watched = 0
        threads: dict[int, int] = {}
        links: list[tuple[str, str, str]] = []
        community: list[CommunityRecap] = []
        if guild_id is not None:
            # One database trip for all of it (progress, threads, feed links, community recaps and the
            # synopsis), not five.
            sources = await self._feeds.recap_sources(guild_id, user_id, found.slug, ep.number)
            watched, threads, links, community = sources.watched, sources.threads, sources.links, sources.community
            ep = self._lookups.episode_with(found, ep, *sources.texts)
        else:
            ep = await self._lookups.episode_texts(found, ep)
        thread_id = threads.get(ep.number)
        plain = may_show_plain(
            episode=ep.number,
            watched=watched,
            ephemeral=private,
            in_episode_thread=thread_id is not None and channel_id == thread_id,
        )
        return RecapAnswer(
            drama=found,
            episode=ep,
            guessed_from=resolved.guessed_from,
            aired=True,
            plain=plain,
            thread_id=thread_id,
            links=links,
            community=community,
        )

    async def who(
        self, *, guild_id: int | None, user_id: int, name: str, drama: str | None, private: bool
    ) -> WhoAnswer:
        """One card when the name is clear (or was picked from the autocomplete), else the options."""
        scope = self._lookups.drama(drama).drama if drama else None
        if self._lookups.target(name) is not None:
            return WhoAnswer(await self.card(guild_id=guild_id, user_id=user_id, value=name, private=private), [])
        hits: list[Hit] = self._lookups.who(name, scope)
        if len(hits) == 1:
            value = target_value(hits[0].target)
            return WhoAnswer(await self.card(guild_id=guild_id, user_id=user_id, value=value, private=private), [])
        return WhoAnswer(None, [(h.label[:100], target_value(h.target)[:100]) for h in hits[:25]])

    async def card(self, *, guild_id: int | None, user_id: int, value: str, private: bool) -> Card:
        """The card of a picked entry (`c:drama/character` or `p:person`)."""
        found = self._lookups.target(value)
        if found is None:
            raise NotFound("That entry is no longer in the catalog; search again with `/who`.")
        catalog = self._lookups.catalog
        if isinstance(found, tuple):
            drama, character = found
            character = self._lookups.character_texts(drama, character)
            watched = await self._progress.watched(guild_id, user_id, drama.slug)
            # Only facts up to `watched` are shown; plain only in a reply the asker alone sees.
            return CharacterCard(catalog, drama, character, watched, private)
        return PersonCard(found, catalog.roles(found.slug))

    async def drama(self, *, guild_id: int | None, drama: str) -> DramaAnswer:
        found = self._lookups.drama(drama).drama
        return await self._overview(guild_id, found)

    async def drama_by_slug(self, *, guild_id: int | None, slug: str) -> DramaAnswer:
        found = self._lookups.catalog.dramas.get(slug)
        if found is None:
            raise NotFound("That drama is no longer in the catalog.")
        return await self._overview(guild_id, found)

    async def _overview(self, guild_id: int | None, drama: Drama) -> DramaAnswer:
        threads = await self._discussions.thread_links(guild_id, drama.slug) if guild_id is not None else {}
        return DramaAnswer(self._lookups.catalog, drama, threads, self._clock.now())
