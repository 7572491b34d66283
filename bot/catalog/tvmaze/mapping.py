"""Mapping (pure functions): TVmaze JSON → a pack dict in the shape of docs/data-packs.md.

Episode air times come from `airstamp` (UTC) converted into the drama's time zone, so the loader
gets back the same UTC instant; specials stay out of the numbering; TVmaze's episode summaries (HTML
stripped) go into `tvmaze_summary`, credited by a `tvmaze` source (CC BY-SA 4.0).
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any

from bot.catalog.loader import HHMM, LIMITS
from bot.catalog.models import TVMAZE_SOURCE
from bot.catalog.tvmaze.client import ShowData, json_get, json_object, kind_of, short
from bot.catalog.tvmaze.errors import ImportFailure, UnexpectedData

MAIN_BILLED = 4  # the first characters in TVmaze's cast order are billed "main", the rest "supporting"
DEFAULT_TIMEZONE = "UTC"
# When a show has no country (global streaming releases often have none), its language decides.
LANGUAGE_TIMEZONES = {
    "Korean": "Asia/Seoul",
    "Japanese": "Asia/Tokyo",
    "Chinese": "Asia/Shanghai",
    "Thai": "Asia/Bangkok",
}
WRITER_TYPES = ("Writer", "Screenwriter", "Screenplay")
DIRECTOR_TYPES = ("Director",)
AGE_NOTE = re.compile(r"^(.+?)\s*\((young|younger|child|teen|teenage|adult|older)\)$", re.IGNORECASE)
GENERIC_TITLE = re.compile(r"^\s*(episode|ep\.?)\s*\d+\s*$", re.IGNORECASE)
TVMAZE_LICENCE = "CC BY-SA 4.0"
TVMAZE_ATTRIBUTION = "Summary from TVmaze (CC BY-SA 4.0)"

Row = dict[str, Any]  # one [[episodes]], [[people]], [[characters]] or [[cast]] entry of a pack dict


def slugify(text: str) -> str:
    """ASCII, lowercase, words joined by hyphens; accents transliterated ("Zoé" → "zoe"). May be ""."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    ascii_text = ascii_text.replace("'", "").replace("\u2019", "")
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text))


def unique_slug(slug: str, taken: set[str]) -> str:
    """`slug`, or `slug-2`, `slug-3`… the first not in `taken` (which it joins)."""
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    taken.add(candidate)
    return candidate


class _TextOnly(HTMLParser):
    BREAKS = {"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(html: str, limit: int = LIMITS["synopsis"]) -> str:
    """TVmaze's HTML summary as plain text: paragraphs kept, whitespace tidied, at most `limit`
    characters (cut at a word, with "…")."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[\ud800-\udfff]", "\ufffd", text)
    paragraphs = [" ".join(p.split()) for p in text.split("\n")]
    text = "\n\n".join(p for p in paragraphs if p)
    if len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit // 2 else cut).rstrip() + "…"
    return text


def _fit(text: str, limit: int = LIMITS["name"]) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The IANA zone called `name`, or None if there is none."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def show_timezone(show: dict[str, Any]) -> str:
    """The network's country zone, else the web channel's, else by language (Korean → Asia/Seoul…),
    else UTC."""
    for key in ("network", "webChannel"):
        channel = show.get(key)
        country = channel.get("country") if isinstance(channel, dict) else None
        name = country.get("timezone") if isinstance(country, dict) else None
        if isinstance(name, str) and zone(name) is not None:
            return name
    language = show.get("language")
    return LANGUAGE_TIMEZONES.get(language, DEFAULT_TIMEZONE) if isinstance(language, str) else DEFAULT_TIMEZONE


def _schedule(days: list[Any]) -> str:
    names = [f"{d}s" for d in days if isinstance(d, str) and d]
    if not names:
        return ""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _date(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise UnexpectedData(where, f"expected a date as YYYY-MM-DD, got {kind_of(value)} {short(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnexpectedData(where, f"expected a date as YYYY-MM-DD, got {short(value)}") from None


@dataclass
class Built:
    """A freshly mapped pack, and notes for the person importing (what was left out, and why)."""

    pack: dict[str, Any]
    notes: list[str]


def build_pack(
    data: ShowData,
    *,
    slug: str | None = None,
    timezone: str | None = None,
    known_people: dict[str, str] | None = None,
) -> Built:
    """Map TVmaze's show, episodes, cast and crew to a pack dict.

    `timezone`: the zone to write local dates and times in (a re-import keeps the pack's own);
    default from the show (see :func:`show_timezone`). `known_people`: slug → name of people in
    the catalog's other packs; a cast member with the same slug takes that name, so the packs agree.
    """
    show = data.show
    notes: list[str] = []
    show_id = json_get(show, "id", "show", int, required=True)
    name = json_get(show, "name", "show", str, required=True).strip()
    if not name:
        raise UnexpectedData("show.name", "is empty")
    zone_name = timezone or show_timezone(show)
    tz = zone(zone_name)
    if tz is None:
        raise ImportFailure(f"{zone_name!r} is not an IANA time zone; fix drama.timezone in the pack")
    url = show.get("url") if isinstance(show.get("url"), str) and show["url"].startswith("https://") else ""
    url = url or f"https://www.tvmaze.com/shows/{show_id}"

    episodes, first_day = _episodes(show, tz, notes)
    if not episodes:
        raise ImportFailure(f"TVmaze lists no dated episodes for {name!r} yet; nothing to import")
    premiered = json_get(show, "premiered", "show", str)
    year = _date(premiered, "show.premiered").year if premiered else first_day.year
    drama = _drama(data, show_id=show_id, name=name, slug=slug, year=year, zone_name=zone_name, episodes=episodes)
    people, characters, cast = _cast(data, known_people or {})
    pack: dict[str, Any] = {
        "drama": drama,
        "sources": [
            {
                "id": TVMAZE_SOURCE,
                "name": "TVmaze",
                "licence": TVMAZE_LICENCE,
                "url": url,
                "attribution": TVMAZE_ATTRIBUTION,
            }
        ],
        "episodes": episodes,
        "people": people,
        "characters": characters,
        "cast": cast,
    }
    return Built(pack=pack, notes=notes)


def _drama(
    data: ShowData, *, show_id: int, name: str, slug: str | None, year: int, zone_name: str, episodes: list[Row]
) -> dict[str, Any]:
    """The [drama] table."""
    show = data.show
    drama: dict[str, Any] = {"slug": slug or slugify(name) or f"tvmaze-{show_id}", "title": _fit(name)}
    network = json_get(show, "network", "show", dict)
    web = json_get(show, "webChannel", "show", dict)
    if network and isinstance(network.get("name"), str) and network["name"].strip():
        drama["network"] = network["name"].strip()
    if web and isinstance(web.get("name"), str) and web["name"].strip():
        drama["streamers"] = [web["name"].strip()]
    drama["year"] = year
    drama["timezone"] = zone_name
    times: list[str] = [e.get("air_time", "") for e in episodes]
    if all(times):
        drama["air_time"] = Counter(times).most_common(1)[0][0]
    schedule = json_get(show, "schedule", "show", dict) or {}
    days = json_get(schedule, "days", "show.schedule", list) or []
    if _schedule(days):
        drama["schedule"] = _schedule(days)
    runtime = json_get(show, "runtime", "show", int) or json_get(show, "averageRuntime", "show", int)
    if runtime and runtime > 0:
        drama["runtime_minutes"] = runtime
    drama["episode_count"] = len(episodes)
    writers, directors = _crew(data.crew)
    if writers:
        drama["writers"] = writers
    if directors:
        drama["directors"] = directors
    external_ids: dict[str, Any] = {"tvmaze": show_id}
    externals = json_get(show, "externals", "show", dict) or {}
    for key in ("imdb", "thetvdb", "tvrage"):
        value = externals.get(key)
        if isinstance(value, str) and value.strip() or isinstance(value, int) and not isinstance(value, bool):
            external_ids[key] = value.strip() if isinstance(value, str) else value
    drama["external_ids"] = external_ids
    return drama


def _episodes(show: dict[str, Any], tz: zoneinfo.ZoneInfo, notes: list[str]) -> tuple[list[Row], date]:
    """The regular episodes, numbered 1, 2, 3… across seasons, up to the first one not dated yet;
    and the first one's day."""
    raw = show["_embedded"]["episodes"]
    regular: list[tuple[int, int, int, dict[str, Any]]] = []
    specials = 0
    for i, item in enumerate(raw):
        where = f"show._embedded.episodes[{i}]"
        ep = json_object(item, where)
        kind = json_get(ep, "type", where, str) or "regular"
        number = json_get(ep, "number", where, int)
        if kind != "regular" or number is None:
            specials += 1
            continue
        season = json_get(ep, "season", where, int) or 1
        regular.append((season, number, i, ep))
    regular.sort(key=lambda r: (r[0], r[1]))
    if specials:
        notes.append(f"{specials} special(s) left out of the episode numbering")
    episodes: list[Row] = []
    first_day: date | None = None
    for n, (_season, _number, i, ep) in enumerate(regular, start=1):
        where = f"show._embedded.episodes[{i}]"
        airdate = json_get(ep, "airdate", where, str)
        if not airdate:
            notes.append(f"{len(regular) - n + 1} episode(s) without an air date yet left out (from episode {n})")
            break
        entry = _episode(ep, where, n, _date(airdate, f"{where}.airdate"), tz)
        first_day = first_day or date.fromisoformat(entry["air_date"])
        episodes.append(entry)
    return episodes, first_day or date.today()


def _episode(ep: dict[str, Any], where: str, number: int, day: date, tz: zoneinfo.ZoneInfo) -> Row:
    """One [[episodes]] entry: a local date (and time, unless it is a release) from the airstamp."""
    airtime = (json_get(ep, "airtime", where, str) or "").strip()
    airstamp = json_get(ep, "airstamp", where, str)
    entry: Row = {"number": number}
    title = (json_get(ep, "name", where, str) or "").strip()
    if title and not GENERIC_TITLE.match(title):
        entry["title"] = _fit(title)
    if airtime:
        if not HHMM.match(airtime):
            raise UnexpectedData(f"{where}.airtime", f"expected a time as HH:MM, got {short(airtime)}")
        if airstamp:
            try:
                instant = datetime.fromisoformat(airstamp.replace("Z", "+00:00"))
            except ValueError:
                raise UnexpectedData(f"{where}.airstamp", f"expected an ISO time, got {short(airstamp)}") from None
            if instant.tzinfo is None:
                raise UnexpectedData(f"{where}.airstamp", f"has no UTC offset: {short(airstamp)}")
            local = instant.astimezone(tz)
            day, airtime = local.date(), f"{local:%H:%M}"
        entry["air_date"] = day.isoformat()
        entry["air_time"] = airtime
    else:  # a release (streaming drop): dated, no slot
        entry["air_date"] = day.isoformat()
    summary = json_get(ep, "summary", where, str)
    if summary and strip_html(summary):
        entry["tvmaze_summary"] = strip_html(summary)
    return entry


def _crew(crew: list[Any]) -> tuple[list[str], list[str]]:
    writers: list[str] = []
    directors: list[str] = []
    for i, item in enumerate(crew):
        where = f"crew[{i}]"
        entry = json_object(item, where)
        kind = json_get(entry, "type", where, str) or ""
        person = json_get(entry, "person", where, dict) or {}
        name = (json_get(person, "name", f"{where}.person", str) or "").strip()
        if not name:
            continue
        if kind in WRITER_TYPES and name not in writers:
            writers.append(_fit(name))
        elif kind in DIRECTOR_TYPES and name not in directors:
            directors.append(_fit(name))
    return writers, directors


def _cast(data: ShowData, known_people: dict[str, str]) -> tuple[list[Row], list[Row], list[Row]]:
    """People, characters and cast entries, in TVmaze's cast order."""
    people: list[Row] = []
    characters: list[Row] = []
    cast: list[Row] = []
    person_slugs: dict[int, str] = {}
    character_slugs: dict[int, str] = {}
    character_names: dict[str, str] = {}  # casefolded name → slug
    taken_people: set[str] = set()
    taken_characters: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for i, item in enumerate(data.show["_embedded"]["cast"]):
        where = f"show._embedded.cast[{i}]"
        entry = json_object(item, where)
        person = json_get(entry, "person", where, dict, required=True)
        character = json_get(entry, "character", where, dict, required=True)
        pid = json_get(person, "id", f"{where}.person", int, required=True)
        cid = json_get(character, "id", f"{where}.character", int, required=True)
        if pid not in person_slugs:
            source = data.people.get(pid, person)
            pname = json_get(source, "name", f"{where}.person", str, required=True).strip()
            if not pname:
                raise UnexpectedData(f"{where}.person.name", "is empty")
            pslug = unique_slug(slugify(pname) or f"person-{pid}", taken_people)
            pname = known_people.get(pslug, _fit(pname))
            person_slugs[pid] = pslug
            people.append({"slug": pslug, "name": pname})
        cname = json_get(character, "name", f"{where}.character", str, required=True).strip()
        if not cname:
            raise UnexpectedData(f"{where}.character.name", "is empty")
        # "Oh Ae-sun (young)" and "Oh Ae-sun (older)": one character, two actors with a note each.
        phase = AGE_NOTE.match(cname)
        base, age = (phase.group(1).strip(), phase.group(2).lower()) if phase else (cname, "")
        if cid not in character_slugs:
            cslug = character_names.get(base.casefold())
            if cslug is None:
                cslug = unique_slug(slugify(base) or f"character-{cid}", taken_characters)
                character_names[base.casefold()] = cslug
                billing = "main" if len(characters) < MAIN_BILLED else "supporting"
                characters.append({"slug": cslug, "name": _fit(base), "billing": billing})
            character_slugs[cid] = cslug
        pair = (character_slugs[cid], person_slugs[pid])
        if pair in pairs:
            continue
        pairs.add(pair)
        row: Row = {"character": pair[0], "person": pair[1]}
        note = ", ".join(n for n in (age, "voice" if json_get(entry, "voice", where, bool) else "") if n)
        if note:
            row["note"] = note
        cast.append(row)
    return people, characters, cast
