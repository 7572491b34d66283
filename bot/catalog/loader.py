"""Loading and validating data packs (see docs/data-packs.md).

Every problem is reported as `file: field: what is wrong`, all of them at once, so a person can
fix a pack in one pass. The bot refuses to start on an invalid pack.
"""

from __future__ import annotations

import builtins
import re
import tomllib
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from bot.catalog.models import (
    BILLINGS,
    TVMAZE_SOURCE,
    CastEntry,
    Catalog,
    Character,
    Compact,
    Drama,
    Episode,
    Fact,
    Person,
    Relation,
    Source,
    share_strings,
)

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
LIMITS = {"synopsis": 1500, "description": 1000, "fact": 500, "premise": 1000, "name": 100}


class CatalogError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Table:
    """Reads one TOML table, recording problems instead of raising. (Its methods `str` and `int` shadow
    the built-in types in the class body, hence `builtins.str` in the annotations after them.)"""

    def __init__(self, data: Any, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        self.seen: set[str] = set()
        if not isinstance(data, dict):
            self.problem("", f"must be a table, got {type(data).__name__}")
            data = {}
        self.data: dict[str, Any] = data

    def problem(self, key: str, what: str) -> None:
        field = f"{self.where}.{key}" if key and self.where else key or self.where
        self.problems.append(f"{field}: {what}")

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                self.problem(key, "is required")
            return None
        return self.data[key]

    def str(
        self, key: builtins.str, *, required: bool = False, limit: builtins.int | None = None, blank_ok: bool = True
    ) -> builtins.str:
        value = self._get(key, required)
        if value is None:
            return ""
        if not isinstance(value, builtins.str):
            self.problem(key, f"must be text, got {type(value).__name__}")
            return ""
        text: builtins.str = value.strip()
        if not text and (required and not blank_ok):
            self.problem(key, "must not be empty")
        if limit is not None and len(text) > limit:
            self.problem(key, f"is {len(text)} characters; at most {limit}")
        return text

    def int(
        self, key: builtins.str, *, required: bool = False, minimum: builtins.int | None = None
    ) -> builtins.int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"must be a whole number, got {value!r}")
            return None
        if minimum is not None and value < minimum:
            self.problem(key, f"must be at least {minimum}, got {value}")
            return None
        return value

    def flag(self, key: builtins.str) -> bool:
        value = self._get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.problem(key, f"must be true or false, got {value!r}")
            return False
        return value

    def strs(self, key: builtins.str) -> tuple[builtins.str, ...]:
        value = self._get(key, False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, "must be a list of text")
            return ()
        return tuple(v.strip() for v in value if v.strip())

    def tables(self, key: builtins.str) -> list[Any]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(key, "must be a list of tables")
            return []
        return value

    def table(self, key: builtins.str) -> dict[builtins.str, Any]:
        value = self._get(key, False)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(key, "must be a table")
            return {}
        return value

    def slug(self, key: builtins.str) -> builtins.str:
        value = self.str(key, required=True, blank_ok=False)
        if value and not SLUG.match(value):
            self.problem(key, f"{value!r} is not a slug (lowercase letters and digits joined by single hyphens)")
        return value

    def finish(self) -> None:
        for key in sorted(set(self.data) - self.seen):
            self.problem(key, "is not a known field (a typo?)")


def _local_to_utc(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(zoneinfo.ZoneInfo("UTC"))


SECTION_NAMES = ("drama", "sources", "episodes", "people", "characters", "cast")


def parse_pack(data: dict[str, Any], file: str) -> tuple[Drama | None, list[Person], list[str]]:
    """Validate one pack's parsed TOML. Returns (drama or None, people, problems)."""
    problems: list[str] = []
    root = _Table(data, "", problems)
    for key in SECTION_NAMES:
        root.seen.add(key)
    for key in sorted(set(data) - root.seen):
        problems.append(f"{key}: is not a known section (a typo?)")
    # Section by section, in this order (the problems are reported in the order they are found).
    header = _parse_drama(data, problems)
    sources = _parse_sources(root.tables("sources"), problems)
    episodes = _parse_episodes(root.tables("episodes"), header, sources, problems)
    people = _parse_people(root.tables("people"), problems)
    characters = _parse_characters(root.tables("characters"), header, problems)
    cast = _parse_cast(root.tables("cast"), characters, people, problems)
    if problems:
        return None, list(people.values()), [f"{file}: {p}" for p in problems]
    drama = Drama(
        slug=header.slug,
        title=header.title,
        year=header.year,
        timezone=header.zone_name,
        episode_count=header.episode_count,
        episodes=tuple(episodes),
        file=file,
        title_ko=header.title_ko,
        aliases=header.aliases,
        network=header.network,
        streamers=header.streamers,
        schedule=header.schedule,
        air_time=header.air_time,
        runtime_minutes=header.runtime_minutes,
        writers=header.writers,
        directors=header.directors,
        premise=header.premise,
        external_ids=dict(header.external_ids),
        sources=sources,
        characters=characters,
        cast=tuple(cast),
    )
    return drama, list(people.values()), []


@dataclass(frozen=True, slots=True)
class _Header:
    """The [drama] table, read (with defaults where it is wrong): what the other sections need of it."""

    slug: str
    title: str
    title_ko: str
    aliases: tuple[str, ...]
    network: str
    streamers: tuple[str, ...]
    year: int
    zone_name: str
    zone: zoneinfo.ZoneInfo | None  # None when the time zone is missing or unknown
    air_time: str  # "" when missing or not HH:MM
    releases: bool  # streaming drops: every episode is a release; an air_time is its release time
    schedule: str
    runtime_minutes: int | None
    episode_count: int  # 0 when missing or wrong
    writers: tuple[str, ...]
    directors: tuple[str, ...]
    premise: str
    external_ids: dict[str, Any]


def _parse_drama(data: dict[str, Any], problems: list[str]) -> _Header:
    if "drama" not in data:
        problems.append("drama: the [drama] section is required")
    d = _Table(data.get("drama", {}), "drama", problems)
    slug = d.slug("slug")
    title = d.str("title", required=True, blank_ok=False, limit=LIMITS["name"])
    title_ko = d.str("title_ko", limit=LIMITS["name"])
    aliases = d.strs("aliases")
    network = d.str("network")
    streamers = d.strs("streamers")
    year = d.int("year", required=True, minimum=1950) or 0
    zone_name = d.str("timezone", required=True, blank_ok=False)
    zone: zoneinfo.ZoneInfo | None = None
    if zone_name:
        try:
            zone = zoneinfo.ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            d.problem("timezone", f"{zone_name!r} is not an IANA time zone (like Asia/Seoul)")
    air_time = d.str("air_time")
    if air_time and not HHMM.match(air_time):
        d.problem("air_time", f"{air_time!r} is not a time as HH:MM (24 h)")
        air_time = ""
    header = _Header(
        slug=slug,
        title=title,
        title_ko=title_ko,
        aliases=aliases,
        network=network,
        streamers=streamers,
        year=year,
        zone_name=zone_name,
        zone=zone,
        air_time=air_time,
        releases=d.flag("releases"),
        schedule=d.str("schedule"),
        runtime_minutes=d.int("runtime_minutes", minimum=1),
        episode_count=d.int("episode_count", required=True, minimum=1) or 0,
        writers=d.strs("writers"),
        directors=d.strs("directors"),
        premise=d.str("premise", limit=LIMITS["premise"]),
        external_ids=d.table("external_ids"),
    )
    d.finish()
    return header


def _parse_sources(tables: list[Any], problems: list[str]) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for i, raw in enumerate(tables):
        s = _Table(raw, f"sources[{i}]", problems)
        sid = s.slug("id")
        source = Source(
            id=sid,
            name=s.str("name", required=True, blank_ok=False),
            licence=s.str("licence", required=True, blank_ok=False),
            url=s.str("url"),
            attribution=s.str("attribution"),
        )
        s.finish()
        if sid in sources:
            s.problem("id", f"{sid!r} is listed twice")
        sources[sid] = source
    return sources


@dataclass(frozen=True, slots=True)
class _EpisodeFields:
    """An [[episodes]] entry's fields but its number, read (with defaults where they are wrong)."""

    title: str
    day: date | None
    time: str  # HH:MM, its own or the drama's; "" for a release
    synopsis: str
    source: str
    tvmaze_summary: str


def _parse_episodes(
    tables: list[Any], drama: _Header, sources: dict[str, Source], problems: list[str]
) -> list[Episode]:
    """The episodes, by number; checked to be numbered 1..episode_count, each once, airing in order."""
    count = drama.episode_count
    episodes: dict[int, Episode] = {}
    listed: set[int] = set()  # every episode number given, even one whose other fields are wrong
    for i, raw in enumerate(tables):
        e = _Table(raw, f"episodes[{i}]", problems)
        number = e.int("number", required=True, minimum=1)
        if number is not None:
            e.where = f"episodes[{number}]"
        fields = _episode_fields(e, drama.air_time, sources)
        e.finish()
        if number is None:
            continue
        if count and number > count:
            e.problem("number", f"{number} is past episode_count ({count})")
        if number in listed:
            e.problem("number", f"episode {number} is listed twice")
            continue
        listed.add(number)
        episode = _episode(e, number, fields, drama.zone, drama.releases)
        if episode is not None:
            episodes[number] = episode
    if count:
        missing = _missing(listed, count)
        if missing == [(1, count)]:
            problems.append(f"episodes: none listed; episode_count is {count}")
        elif missing:
            ranges = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in missing)
            problems.append(f"episodes: missing episode(s) {ranges} of 1–{count}")
    ordered = [episodes[n] for n in sorted(episodes)]
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.air_at < earlier.air_at:
            problems.append(f"episodes[{later.number}].air_date: airs before episode {earlier.number}")
    return ordered


def _episode_fields(e: _Table, default_time: str, sources: dict[str, Source]) -> _EpisodeFields:
    title = e.str("title", limit=LIMITS["name"])
    day = _air_date(e)
    air_time = e.str("air_time") or default_time
    if air_time and not HHMM.match(air_time):
        e.problem("air_time", f"{air_time!r} is not a time as HH:MM (24 h)")
        air_time = ""
    synopsis = e.str("synopsis", limit=LIMITS["synopsis"])
    source = e.str("source")
    if source and source not in sources:
        e.problem("source", f"{source!r} is not one of the pack's sources ({', '.join(sources) or 'none'})")
    tvmaze_summary = e.str("tvmaze_summary", limit=LIMITS["synopsis"])
    if tvmaze_summary and TVMAZE_SOURCE not in sources:
        e.problem(
            "tvmaze_summary",
            f"needs a [[sources]] entry with id {TVMAZE_SOURCE!r} for its credit (CC BY-SA 4.0)",
        )
    return _EpisodeFields(
        title=title, day=day, time=air_time, synopsis=synopsis, source=source, tvmaze_summary=tvmaze_summary
    )


def _air_date(e: _Table) -> date | None:
    """air_date: a TOML date, or text as YYYY-MM-DD."""
    raw = e._get("air_date", True)
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            e.problem("air_date", f"{raw!r} is not a date as YYYY-MM-DD")
    elif raw is not None:
        e.problem("air_date", f"{raw!r} is not a date as YYYY-MM-DD")
    return None


def _episode(
    e: _Table, number: int, fields: _EpisodeFields, zone: zoneinfo.ZoneInfo | None, releases: bool
) -> Episode | None:
    """The episode, with its air time in UTC; None if its date or the drama's zone is unusable."""
    if fields.day is None or zone is None:
        return None
    clock = time.fromisoformat(fields.time) if fields.time else time(0, 0)
    try:
        air_at = _local_to_utc(fields.day, clock, zone)
    except OverflowError:
        e.problem("air_date", f"{fields.day.isoformat()!r} is out of range")
        return None
    return Episode(
        number=number,
        air_at=air_at,
        is_release=releases or not fields.time,
        time_known=bool(fields.time),
        title=fields.title,
        synopsis=fields.synopsis,
        source=fields.source,
        tvmaze_summary=fields.tvmaze_summary,
    )


def _parse_people(tables: list[Any], problems: list[str]) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for i, raw in enumerate(tables):
        p = _Table(raw, f"people[{i}]", problems)
        pslug = p.slug("slug")
        if pslug:
            p.where = f"people[{pslug}]"
        person = Person(
            slug=pslug,
            name=p.str("name", required=True, blank_ok=False, limit=LIMITS["name"]),
            name_ko=p.str("name_ko", limit=LIMITS["name"]),
            aliases=p.strs("aliases"),
        )
        p.finish()
        if pslug in people:
            p.problem("slug", f"{pslug!r} is listed twice")
        people[pslug] = person
    return people


def _parse_characters(tables: list[Any], drama: _Header, problems: list[str]) -> dict[str, Character]:
    """The characters, with their relations (checked to name a character of the pack) and facts."""
    characters: dict[str, Character] = {}
    pending: list[tuple[str, Relation]] = []  # (where, relation): checked once every character is known
    for i, raw in enumerate(tables):
        c = _Table(raw, f"characters[{i}]", problems)
        cslug = c.slug("slug")
        if cslug:
            c.where = f"characters[{cslug}]"
        name = c.str("name", required=True, blank_ok=False, limit=LIMITS["name"])
        billing = c.str("billing", required=True, blank_ok=False)
        if billing and billing not in BILLINGS:
            c.problem("billing", f"{billing!r} is not one of {', '.join(BILLINGS)}")
        description = c.str("description", limit=LIMITS["description"])
        relations = _parse_relations(c, drama.episode_count, problems, pending)
        facts = _parse_facts(c, drama.episode_count, problems)
        character = Character(
            slug=cslug,
            drama=drama.slug,
            name=name,
            billing=billing,
            description=description,
            name_ko=c.str("name_ko", limit=LIMITS["name"]),
            aliases=c.strs("aliases"),
            relations=relations,
            facts=facts,
        )
        c.finish()
        if cslug in characters:
            c.problem("slug", f"{cslug!r} is listed twice")
        characters[cslug] = character
    for where, relation in pending:
        if relation.to and relation.to not in characters:
            problems.append(f"{where}: {relation.to!r} is not a character in this pack")
    return characters


def _parse_relations(
    c: _Table, count: int, problems: list[str], pending: list[tuple[str, Relation]]
) -> tuple[Relation, ...]:
    relations: list[Relation] = []
    for j, raw in enumerate(c.tables("relations")):
        r = _Table(raw, f"{c.where}.relations[{j}]", problems)
        target = r.slug("to")
        kind = r.str("kind", required=True, blank_ok=False, limit=LIMITS["name"])
        ep = r.int("episode", minimum=1)
        if ep is not None and count and ep > count:
            r.problem("episode", f"{ep} is past the last episode ({count})")
        r.finish()
        relation = Relation(to=target, kind=kind, episode=ep)
        relations.append(relation)
        pending.append((f"{r.where}.to", relation))
    return tuple(relations)


def _parse_facts(c: _Table, count: int, problems: list[str]) -> tuple[Fact, ...]:
    """The character's spoiler facts, sorted by episode."""
    facts: list[Fact] = []
    for j, raw in enumerate(c.tables("facts")):
        f = _Table(raw, f"{c.where}.facts[{j}]", problems)
        ep = f.int("episode", required=True, minimum=1)
        text = f.str("text", required=True, blank_ok=False, limit=LIMITS["fact"])
        f.finish()
        if ep is not None and count and ep > count:
            f.problem("episode", f"{ep} is past the last episode ({count})")
        if ep is not None:
            facts.append(Fact(episode=ep, text=text))
    return tuple(sorted(facts, key=lambda x: x.episode))


def _parse_cast(
    tables: list[Any], characters: dict[str, Character], people: dict[str, Person], problems: list[str]
) -> list[CastEntry]:
    cast: list[CastEntry] = []
    for i, raw in enumerate(tables):
        c = _Table(raw, f"cast[{i}]", problems)
        entry = CastEntry(character=c.slug("character"), person=c.slug("person"), note=c.str("note"))
        c.finish()
        if entry.character and entry.character not in characters:
            c.problem("character", f"{entry.character!r} is not a character in this pack")
        if entry.person and entry.person not in people:
            c.problem("person", f"{entry.person!r} is not one of the pack's people")
        cast.append(entry)
    return cast


def _missing(listed: set[int], count: int) -> list[tuple[int, int]]:
    """The runs (first, last) of 1..count not in `listed`; walks the listed numbers, not 1..count."""
    runs: list[tuple[int, int]] = []
    expect = 1
    for n in sorted(n for n in listed if 1 <= n <= count):
        if n > expect:
            runs.append((expect, n - 1))
        expect = n + 1
    if expect <= count:
        runs.append((expect, count))
    return runs


def pack_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.glob("*.toml") if p.is_file())


@dataclass(frozen=True, slots=True)
class Unit(Compact):
    """One parsed pack: where it came from, its drama (None if unusable) and its people."""

    name: str
    drama: Drama | None
    people: tuple[Person, ...]


def parse_text(text: str, name: str) -> tuple[Unit, list[str]]:
    """Parse one pack's TOML text. Returns (unit, problems)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Unit(name, None, ()), [f"{name}: not valid TOML: {exc}"]
    drama, people, problems = parse_pack(data, name)
    return share_strings(Unit(name, drama, tuple(people)), {}), problems


def assemble(units: Iterable[Unit]) -> tuple[Catalog, list[str]]:
    """The catalog of several parsed packs, with the checks across packs (slugs, people's names)."""
    problems: list[str] = []
    dramas: dict[str, Drama] = {}
    people: dict[str, Person] = {}
    for unit in units:
        for person in unit.people:
            known = people.get(person.slug)
            if known is not None and known.name != person.name:
                problems.append(
                    f"{unit.name}: people[{person.slug}].name: {person.name!r} differs from "
                    f"{known.name!r} in another pack"
                )
            elif known is None or (not known.name_ko and person.name_ko):
                people[person.slug] = person
        drama = unit.drama
        if drama is None:
            continue
        if drama.slug in dramas:
            problems.append(f"{unit.name}: drama.slug: {drama.slug!r} is already used by {dramas[drama.slug].file}")
            continue
        dramas[drama.slug] = drama
    return Catalog(dict(sorted(dramas.items())), people), problems


def load_catalog(paths: Iterable[Path]) -> tuple[Catalog, list[str]]:
    """Load every pack under `paths` (folders or files). Returns (catalog, problems)."""
    problems: list[str] = []
    units: list[Unit] = []
    for root in paths:
        if not root.exists():
            problems.append(f"{root}: no such file or folder")
            continue
        for file in pack_files(root):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}")
                continue
            unit, pack_problems = parse_text(text, str(file))
            units.append(unit)
            problems += pack_problems
    catalog, across = assemble(units)
    return catalog, problems + across


def load_catalog_or_raise(paths: Iterable[Path]) -> Catalog:
    catalog, problems = load_catalog(paths)
    if problems:
        raise CatalogError(problems)
    return catalog
