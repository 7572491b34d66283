"""Loading and validating data packs (see docs/data-packs.md).

Every problem is reported as `file: field: what is wrong`, all of them at once, so a person can
fix a pack in one pass. The bot refuses to start on an invalid pack.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from bot.catalog.models import (
    BILLINGS,
    TVMAZE_SOURCE,
    CastEntry,
    Catalog,
    Character,
    Drama,
    Episode,
    Fact,
    Person,
    Relation,
    Source,
)

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
LIMITS = {"synopsis": 1500, "description": 1000, "fact": 500, "premise": 1000, "name": 100}


class CatalogError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Table:
    """Reads one TOML table, recording problems instead of raising."""

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

    def str(self, key: str, *, required: bool = False, limit: int | None = None, blank_ok: bool = True) -> str:
        value = self._get(key, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(key, f"must be text, got {type(value).__name__}")
            return ""
        value = value.strip()
        if not value and (required and not blank_ok):
            self.problem(key, "must not be empty")
        if limit is not None and len(value) > limit:
            self.problem(key, f"is {len(value)} characters; at most {limit}")
        return value

    def int(self, key: str, *, required: bool = False, minimum: int | None = None) -> int | None:
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

    def strs(self, key: str) -> tuple[str, ...]:
        value = self._get(key, False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, "must be a list of text")
            return ()
        return tuple(v.strip() for v in value if v.strip())

    def tables(self, key: str) -> list[Any]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(key, "must be a list of tables")
            return []
        return value

    def table(self, key: str) -> dict[str, Any]:
        value = self._get(key, False)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(key, "must be a table")
            return {}
        return value

    def slug(self, key: str) -> str:
        value = self.str(key, required=True, blank_ok=False)
        if value and not SLUG.match(value):
            self.problem(key, f"{value!r} is not a slug (lowercase letters and digits joined by single hyphens)")
        return value

    def finish(self) -> None:
        for key in sorted(set(self.data) - self.seen):
            self.problem(key, "is not a known field (a typo?)")


def _local_to_utc(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(zoneinfo.ZoneInfo("UTC"))


def parse_pack(data: dict[str, Any], file: str) -> tuple[Drama | None, list[Person], list[str]]:
    """Validate one pack's parsed TOML. Returns (drama or None, people, problems)."""
    problems: list[str] = []
    prefix = f"{file}: "

    root = _Table(data, "", problems)
    for key in ("drama", "sources", "episodes", "people", "characters", "cast"):
        root.seen.add(key)
    for key in sorted(set(data) - root.seen):
        problems.append(f"{key}: is not a known section (a typo?)")

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
    default_time = d.str("air_time")
    if default_time and not HHMM.match(default_time):
        d.problem("air_time", f"{default_time!r} is not a time as HH:MM (24 h)")
        default_time = ""
    schedule = d.str("schedule")
    runtime = d.int("runtime_minutes", minimum=1)
    count = d.int("episode_count", required=True, minimum=1) or 0
    writers = d.strs("writers")
    directors = d.strs("directors")
    premise = d.str("premise", limit=LIMITS["premise"])
    external_ids = d.table("external_ids")
    d.finish()

    sources: dict[str, Source] = {}
    for i, raw in enumerate(root.tables("sources")):
        s = _Table(raw, f"sources[{i}]", problems)
        sid = s.slug("id")
        source = Source(
            sid,
            s.str("name", required=True, blank_ok=False),
            s.str("licence", required=True, blank_ok=False),
            s.str("url"),
            s.str("attribution"),
        )
        s.finish()
        if sid in sources:
            s.problem("id", f"{sid!r} is listed twice")
        sources[sid] = source

    episodes: dict[int, Episode] = {}
    listed: set[int] = set()  # every episode number given, even one whose other fields are wrong
    for i, raw in enumerate(root.tables("episodes")):
        e = _Table(raw, f"episodes[{i}]", problems)
        number = e.int("number", required=True, minimum=1)
        if number is not None:
            e.where = f"episodes[{number}]"
        title_e = e.str("title", limit=LIMITS["name"])
        day_raw = e._get("air_date", True)
        day: date | None = None
        if isinstance(day_raw, date) and not isinstance(day_raw, datetime):
            day = day_raw
        elif isinstance(day_raw, str):
            try:
                day = date.fromisoformat(day_raw.strip())
            except ValueError:
                e.problem("air_date", f"{day_raw!r} is not a date as YYYY-MM-DD")
        elif day_raw is not None:
            e.problem("air_date", f"{day_raw!r} is not a date as YYYY-MM-DD")
        time_raw = e.str("air_time") or default_time
        if time_raw and not HHMM.match(time_raw):
            e.problem("air_time", f"{time_raw!r} is not a time as HH:MM (24 h)")
            time_raw = ""
        synopsis = e.str("synopsis", limit=LIMITS["synopsis"])
        source_id = e.str("source")
        if source_id and source_id not in sources:
            e.problem("source", f"{source_id!r} is not one of the pack's sources ({', '.join(sources) or 'none'})")
        tvmaze_summary = e.str("tvmaze_summary", limit=LIMITS["synopsis"])
        if tvmaze_summary and TVMAZE_SOURCE not in sources:
            e.problem(
                "tvmaze_summary",
                f"needs a [[sources]] entry with id {TVMAZE_SOURCE!r} for its credit (CC BY-SA 4.0)",
            )
        e.finish()
        if number is None:
            continue
        if count and number > count:
            e.problem("number", f"{number} is past episode_count ({count})")
        if number in listed:
            e.problem("number", f"episode {number} is listed twice")
            continue
        listed.add(number)
        if day is None or zone is None:
            continue
        is_release = not time_raw
        clock = time.fromisoformat(time_raw) if time_raw else time(0, 0)
        try:
            air_at = _local_to_utc(day, clock, zone)
        except OverflowError:
            e.problem("air_date", f"{day.isoformat()!r} is out of range")
            continue
        episodes[number] = Episode(number, air_at, is_release, title_e, synopsis, source_id, tvmaze_summary)
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

    people: dict[str, Person] = {}
    for i, raw in enumerate(root.tables("people")):
        p = _Table(raw, f"people[{i}]", problems)
        pslug = p.slug("slug")
        if pslug:
            p.where = f"people[{pslug}]"
        person = Person(
            pslug,
            p.str("name", required=True, blank_ok=False, limit=LIMITS["name"]),
            p.str("name_ko", limit=LIMITS["name"]),
            p.strs("aliases"),
        )
        p.finish()
        if pslug in people:
            p.problem("slug", f"{pslug!r} is listed twice")
        people[pslug] = person

    characters: dict[str, Character] = {}
    pending_relations: list[tuple[str, Relation]] = []
    for i, raw in enumerate(root.tables("characters")):
        c = _Table(raw, f"characters[{i}]", problems)
        cslug = c.slug("slug")
        if cslug:
            c.where = f"characters[{cslug}]"
        name = c.str("name", required=True, blank_ok=False, limit=LIMITS["name"])
        billing = c.str("billing", required=True, blank_ok=False)
        if billing and billing not in BILLINGS:
            c.problem("billing", f"{billing!r} is not one of {', '.join(BILLINGS)}")
        description = c.str("description", limit=LIMITS["description"])
        relations: list[Relation] = []
        for j, rraw in enumerate(c.tables("relations")):
            r = _Table(rraw, f"{c.where}.relations[{j}]", problems)
            target = r.slug("to")
            kind = r.str("kind", required=True, blank_ok=False, limit=LIMITS["name"])
            ep = r.int("episode", minimum=1)
            if ep is not None and count and ep > count:
                r.problem("episode", f"{ep} is past the last episode ({count})")
            r.finish()
            relation = Relation(target, kind, ep)
            relations.append(relation)
            pending_relations.append((f"{r.where}.to", relation))
        facts: list[Fact] = []
        for j, fraw in enumerate(c.tables("facts")):
            f = _Table(fraw, f"{c.where}.facts[{j}]", problems)
            ep = f.int("episode", required=True, minimum=1)
            text = f.str("text", required=True, blank_ok=False, limit=LIMITS["fact"])
            f.finish()
            if ep is not None and count and ep > count:
                f.problem("episode", f"{ep} is past the last episode ({count})")
            if ep is not None:
                facts.append(Fact(ep, text))
        character = Character(
            cslug,
            slug,
            name,
            billing,
            description,
            c.str("name_ko", limit=LIMITS["name"]),
            c.strs("aliases"),
            tuple(relations),
            tuple(sorted(facts, key=lambda x: x.episode)),
        )
        c.finish()
        if cslug in characters:
            c.problem("slug", f"{cslug!r} is listed twice")
        characters[cslug] = character
    for where, relation in pending_relations:
        if relation.to and relation.to not in characters:
            problems.append(f"{where}: {relation.to!r} is not a character in this pack")

    cast: list[CastEntry] = []
    for i, raw in enumerate(root.tables("cast")):
        c = _Table(raw, f"cast[{i}]", problems)
        entry = CastEntry(c.slug("character"), c.slug("person"), c.str("note"))
        c.finish()
        if entry.character and entry.character not in characters:
            c.problem("character", f"{entry.character!r} is not a character in this pack")
        if entry.person and entry.person not in people:
            c.problem("person", f"{entry.person!r} is not one of the pack's people")
        cast.append(entry)

    problems = [prefix + p for p in problems]
    if problems:
        return None, list(people.values()), problems
    drama = Drama(
        slug=slug,
        title=title,
        year=year,
        timezone=zone_name,
        episode_count=count,
        episodes=tuple(ordered),
        file=file,
        title_ko=title_ko,
        aliases=aliases,
        network=network,
        streamers=streamers,
        schedule=schedule,
        air_time=default_time,
        runtime_minutes=runtime,
        writers=writers,
        directors=directors,
        premise=premise,
        external_ids=dict(external_ids),
        sources=sources,
        characters=characters,
        cast=tuple(cast),
    )
    return drama, list(people.values()), []


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


def load_catalog(paths: Iterable[Path]) -> tuple[Catalog, list[str]]:
    """Load every pack under `paths` (folders or files). Returns (catalog, problems)."""
    problems: list[str] = []
    dramas: dict[str, Drama] = {}
    people: dict[str, Person] = {}
    for root in paths:
        if not root.exists():
            problems.append(f"{root}: no such file or folder")
            continue
        for file in pack_files(root):
            name = str(file)
            try:
                with file.open("rb") as handle:
                    data = tomllib.load(handle)
            except tomllib.TOMLDecodeError as exc:
                problems.append(f"{name}: not valid TOML: {exc}")
                continue
            except OSError as exc:
                problems.append(f"{name}: cannot read: {exc.strerror}")
                continue
            drama, pack_people, pack_problems = parse_pack(data, name)
            problems += pack_problems
            for person in pack_people:
                known = people.get(person.slug)
                if known is not None and known.name != person.name:
                    problems.append(
                        f"{name}: people[{person.slug}].name: {person.name!r} differs from "
                        f"{known.name!r} in another pack"
                    )
                elif known is None or (not known.name_ko and person.name_ko):
                    people[person.slug] = person
            if drama is None:
                continue
            if drama.slug in dramas:
                problems.append(f"{name}: drama.slug: {drama.slug!r} is already used by {dramas[drama.slug].file}")
                continue
            dramas[drama.slug] = drama
    return Catalog(dict(sorted(dramas.items())), people), problems


def load_catalog_or_raise(paths: Iterable[Path]) -> Catalog:
    catalog, problems = load_catalog(paths)
    if problems:
        raise CatalogError(problems)
    return catalog
