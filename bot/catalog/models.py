"""The catalog's domain objects: dramas, episodes, people, characters, cast. Immutable."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, NamedTuple

BILLINGS = ("main", "supporting", "guest")
TVMAZE_SOURCE = "tvmaze"  # the sources id that credits episodes' tvmaze_summary


class Compact:
    """Pickles a frozen, slotted dataclass as (class, field values): the live catalog keeps
    compiled packs pickled in its database, and dataclasses' generic __setstate__ (one fields()
    call per object) made reading 2,000 packs back take a second."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), tuple(getattr(self, name) for name in _field_names(type(self)))


_NAMES: dict[type, tuple[str, ...]] = {}

SHORT = 64  # strings up to this long are shared by value (see share_strings); longer ones are texts


def share_strings(obj: Any, table: dict[str, str]) -> Any:
    """`obj` (a tree of Compact dataclasses, tuples, lists and dicts) rebuilt so that equal short
    strings are one object, the first met (`table` holds them). A pack repeats its slugs, names and
    words many times (a character's slug in its cast entry and in every relation to it); sharing them
    before a pack is pickled keeps them shared when it is read back (pickle writes an object met
    twice once), which takes about a sixth off a compiled catalog's memory."""
    kind = type(obj)
    if kind is str:
        return table.setdefault(obj, obj) if len(obj) <= SHORT else obj
    if kind is tuple or kind is list:
        return kind(share_strings(x, table) for x in obj)
    if kind is dict:
        return {share_strings(k, table): share_strings(v, table) for k, v in obj.items()}
    if isinstance(obj, Compact):
        return kind(*(share_strings(getattr(obj, name), table) for name in _field_names(kind)))
    return obj


def _field_names(cls: type) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, slots=True)
class Source(Compact):
    id: str
    name: str
    licence: str
    url: str = ""
    attribution: str = ""


@dataclass(frozen=True, slots=True)
class Episode(Compact):
    number: int
    air_at: datetime  # UTC; for a release without a time, the start of its day in the drama's time zone
    is_release: bool  # a streaming drop (drama.releases, or no air_time at all), not a broadcast slot
    time_known: bool = True  # False: only the date is known (counted as out from local midnight)
    title: str = ""
    synopsis: str = ""
    source: str = ""
    # Text from TVmaze (CC BY-SA 4.0), never mixed into our synopsis; credited by the pack's
    # "tvmaze" source (see TVMAZE_SOURCE) and shown only when the episode has no synopsis of ours.
    tvmaze_summary: str = ""

    def aired(self, now: datetime) -> bool:
        return now >= self.air_at


@dataclass(frozen=True, slots=True)
class Person(Compact):
    slug: str
    name: str
    name_ko: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Relation(Compact):
    to: str  # a character slug in the same drama
    kind: str
    episode: int | None = None  # None: known from the start; else revealed in that episode


@dataclass(frozen=True, slots=True)
class Fact(Compact):
    episode: int
    text: str


@dataclass(frozen=True, slots=True)
class Character(Compact):
    slug: str
    drama: str  # drama slug
    name: str
    billing: str
    description: str
    name_ko: str = ""
    aliases: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    facts: tuple[Fact, ...] = ()  # sorted by episode


@dataclass(frozen=True, slots=True)
class CastEntry(Compact):
    character: str
    person: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Drama(Compact):
    slug: str
    title: str
    year: int
    timezone: str
    episode_count: int
    episodes: tuple[Episode, ...]
    file: str = ""
    title_ko: str = ""
    aliases: tuple[str, ...] = ()
    network: str = ""
    streamers: tuple[str, ...] = ()
    schedule: str = ""
    air_time: str = ""
    runtime_minutes: int | None = None
    writers: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    premise: str = ""
    external_ids: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    characters: dict[str, Character] = field(default_factory=dict)
    cast: tuple[CastEntry, ...] = ()
    # True: the synopses are held apart and the characters' descriptions and facts are compressed in
    # `character_texts` (bot.catalog.texts); they are empty here, and whoever shows them has them
    # filled in first (bot.lookups.Lookups). False: they are here.
    texts_apart: bool = False
    character_texts: bytes = b""

    def episode(self, number: int) -> Episode | None:
        if 1 <= number <= len(self.episodes):
            return self.episodes[number - 1]
        return None

    def next_episode(self, now: datetime) -> Episode | None:
        return next((e for e in self.episodes if not e.aired(now)), None)

    def actors(self, character_slug: str) -> list[CastEntry]:
        return [c for c in self.cast if c.character == character_slug]

    @property
    def display_title(self) -> str:
        return f"{self.title} ({self.title_ko})" if self.title_ko else self.title


class Role(NamedTuple):  # a tuple: one per cast entry of the catalog, made at every start (a third of the cost)
    drama: Drama
    character: Character
    note: str = ""


class Catalog:
    """Every loaded drama, and the people across them."""

    def __init__(self, dramas: dict[str, Drama], people: dict[str, Person]) -> None:
        self.dramas = dramas
        self.people = people
        self._roles: dict[str, list[Role]] = {}
        for drama in dramas.values():
            for entry in drama.cast:
                character = drama.characters[entry.character]
                self._roles.setdefault(entry.person, []).append(Role(drama=drama, character=character, note=entry.note))
        for roles in self._roles.values():
            roles.sort(key=lambda r: (r.drama.year, r.drama.title))

    def roles(self, person_slug: str) -> list[Role]:
        return self._roles.get(person_slug, [])

    def character(self, drama_slug: str, character_slug: str) -> Character | None:
        drama = self.dramas.get(drama_slug)
        return drama.characters.get(character_slug) if drama else None

    def __len__(self) -> int:
        return len(self.dramas)
