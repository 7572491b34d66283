"""Resolving what members type (drama names, episode numbers, character and actor names)
into catalog objects, with errors that say what to do."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.catalog import Catalog, Character, Drama, Episode, Person
from bot.catalog.search import Hit, SearchIndex, Target
from bot.catalog.texts import character_texts_of, episode_part, with_character_texts, with_episode_texts
from bot.errors import InvalidInput, NotFound
from bot.text import quote

CONFIDENT_FUZZY = 88.0


@dataclass(frozen=True)
class Resolved:
    drama: Drama
    guessed_from: str | None = None  # the typed text, when a typo was resolved


def _suggest(hits: list[Hit]) -> str:
    return ", ".join(f"**{h.label}**" for h in hits[:5])


class TextSource(Protocol):
    """Where episodes' synopses are read from (bot.storage.catalog.CatalogRepo)."""

    async def texts(self, drama: str, part: str) -> tuple[str, str]: ...


_T = TypeVar("_T")


class Lookups:
    KEPT = 2048  # filled-in episodes and characters kept, most recently used

    def __init__(self, catalog: Catalog, index: SearchIndex, texts: TextSource | None = None) -> None:
        self.catalog = catalog
        self.index = index
        self._texts = texts
        self._kept: OrderedDict[tuple[str, str], tuple[Any, Any]] = OrderedDict()

    def replace(self, catalog: Catalog, index: SearchIndex) -> None:
        """Swap in a changed catalog (an import or a refresh) with its index: one assignment each,
        so a lookup running now sees the old pair or the new one, never half of each."""
        self.catalog, self.index = catalog, index

    # -- long texts -----------------------------------------------------------------------------
    # The catalog holds dramas without their synopses and with their characters' texts compressed
    # (bot.catalog.texts): whatever shows a synopsis, a description or facts asks for the object with
    # them filled in.
    async def episode_texts(self, drama: Drama, episode: Episode) -> Episode:
        """The episode with its synopsis (one database trip, unless it was filled in lately)."""
        if not drama.texts_apart:
            return episode  # a catalog given whole (tests, tools): the texts are there
        key = (drama.slug, episode_part(episode.number))
        if (kept := self._kept_for(key, episode)) is not None:
            return kept
        if self._texts is None:
            raise RuntimeError(f"{drama.slug}: its texts are held apart, and these lookups have no text source")
        body, extra = await self._texts.texts(drama.slug, key[1])
        return self._keep(key, episode, with_episode_texts(episode, body, extra))

    def episode_with(self, drama: Drama, episode: Episode, body: str, extra: str) -> Episode:
        """The episode filled in from texts read along with something else (`/recap`'s one statement)."""
        if not drama.texts_apart:
            return episode
        return self._keep((drama.slug, episode_part(episode.number)), episode, with_episode_texts(episode, body, extra))

    def character_texts(self, drama: Drama, character: Character) -> Character:
        """The character with its description and facts, unpacked from memory (no database trip)."""
        if not drama.texts_apart:
            return character
        key = (drama.slug, f"c:{character.slug}")
        if (kept := self._kept_for(key, character)) is not None:
            return kept
        description, facts = character_texts_of(drama, character.slug)
        return self._keep(key, character, with_character_texts(character, description, facts))

    def _kept_for(self, key: tuple[str, str], held: _T) -> _T | None:
        """What was filled in for `held` lately; None when it was not (or for an object since replaced:
        a changed drama is made of new objects)."""
        kept = self._kept.get(key)
        if kept is None or kept[0] is not held:
            return None
        self._kept.move_to_end(key)
        filled: _T = kept[1]  # filled in from `held`: the same type
        return filled

    def _keep(self, key: tuple[str, str], held: Any, filled: _T) -> _T:
        self._kept[key] = (held, filled)
        self._kept.move_to_end(key)
        if len(self._kept) > self.KEPT:
            self._kept.popitem(last=False)
        return filled

    # -- dramas ---------------------------------------------------------------------------------
    def drama(self, query: str) -> Resolved:
        text = query.strip()
        drama = self.catalog.dramas.get(text)
        if drama is not None:
            return Resolved(drama)
        hits = self.index.dramas.lookup(text, limit=6)
        if hits and hits[0].how != "fuzzy":
            return Resolved(self.catalog.dramas[hits[0].target[1]])
        if hits and hits[0].score >= CONFIDENT_FUZZY and (len(hits) == 1 or hits[0].score - hits[1].score >= 5):
            return Resolved(self.catalog.dramas[hits[0].target[1]], guessed_from=text)
        if not hits:
            hits = self.index.dramas.fuzzy(text[:100].casefold(), 5, cutoff=50) if text else []
        hint = f" Did you mean {_suggest(hits)}?" if hits else " `/drama` with the autocomplete lists what I know."
        raise NotFound(f"No drama named {quote(query, 60)}.{hint}")

    @staticmethod
    def episode(drama: Drama, number: int) -> Episode:
        episode = drama.episode(number)
        if episode is None:
            raise InvalidInput(
                f"`episode`: {drama.title} has episodes 1–{drama.episode_count}; {number} is not one of them."
            )
        return episode

    def drama_choices(self, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(name, value) pairs for autocomplete, within Discord's 100-character limits."""
        return [(h.label[:100], h.target[1][:100]) for h in self.index.dramas.complete(typed, limit)]

    def episode_choices(self, drama_query: str, typed: str, limit: int = 25) -> list[tuple[str, int]]:
        try:
            drama = self.drama(drama_query).drama if drama_query else None
        except NotFound:
            drama = None
        if drama is None:
            return []
        typed = typed.strip()
        episodes = [e for e in drama.episodes if not typed or str(e.number).startswith(typed)]
        zone = ZoneInfo(drama.timezone)  # the local air date, as in the pack (a release is local midnight)
        return [(_episode_choice(e, f"{e.air_at.astimezone(zone):%Y-%m-%d}"), e.number) for e in episodes[:limit]]

    # -- characters and people --------------------------------------------------------------------
    def who(self, query: str, drama: Drama | None = None) -> list[Hit]:
        """Characters and people matching `query`, best first. Several equally good hits = ambiguous."""
        allow = self.index.who_in(drama.slug) if drama else None
        text = query.strip()
        hits = self.index.who.lookup(text, limit=50)
        if allow is not None:
            hits = [h for h in hits if h.target in allow]
            if not hits and text:
                hits = [h for h in self.index.who.fuzzy(text.casefold()[:100], 50, cutoff=60) if h.target in allow]
        if not hits:
            near = self.index.who.fuzzy(text.casefold()[:100], 5, cutoff=55) if text else []
            if allow is not None:
                near = [h for h in near if h.target in allow]
            where = f" in {drama.title}" if drama else ""
            hint = f" Did you mean {_suggest(near)}?" if near else ""
            raise NotFound(f"No character or actor named {quote(query, 60)}{where}.{hint}")
        if hits[0].how == "fuzzy":
            confident = hits[0].score >= CONFIDENT_FUZZY and (len(hits) == 1 or hits[0].score - hits[1].score >= 5)
            return hits[:1] if confident else hits[:25]
        top = [h for h in hits if h.score == hits[0].score]
        return top[:25]

    def who_choices(self, typed: str, drama_query: str = "", limit: int = 25) -> list[tuple[str, str]]:
        allow = None
        if drama_query:
            try:
                allow = self.index.who_in(self.drama(drama_query).drama.slug)
            except NotFound:
                allow = None
        hits = self.index.who.complete(typed, limit, allow=allow)
        return [(h.label[:100], target_value(h.target)[:100]) for h in hits]

    def target(self, value: str) -> tuple[Drama, Character] | Person | None:
        kind, _, rest = value.partition(":")
        if kind == "c":
            drama_slug, _, slug = rest.partition("/")
            drama = self.catalog.dramas.get(drama_slug)
            character = drama.characters.get(slug) if drama else None
            return (drama, character) if drama and character else None
        if kind == "p":
            return self.catalog.people.get(rest)
        return None


CHOICE_NAME = 100  # an autocomplete choice's name: 1-100 characters (application-commands.mdx)


def _episode_choice(episode: Episode, date: str) -> str:
    """The choice "Episode N · title · date" in at most 100 characters: a long title is shortened (with "…"),
    never the episode number or the date."""
    head, tail = f"Episode {episode.number}", f" · {date}"
    title = " ".join((episode.title or "").split())
    room = CHOICE_NAME - len(head) - len(tail) - len(" · ")
    if title and room > 1:
        if len(title) > room:
            title = title[: room - 1].rstrip() + "…"
        return f"{head} · {title}{tail}"
    return (head + tail)[:CHOICE_NAME]


def target_value(target: Target) -> str:
    """A compact id for a /who hit, used as autocomplete value and select option value."""
    if target[0] == "character":
        return f"c:{target[1]}/{target[2]}"
    return f"p:{target[1]}"
