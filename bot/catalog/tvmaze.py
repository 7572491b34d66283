"""Importing a drama from TVmaze (https://www.tvmaze.com/api) into a data pack.

`python -m bot catalog import tvmaze QUERY` runs :func:`import_tvmaze`:

1. fetch: `/singlesearch/shows?q=QUERY&embed[]=episodes&embed[]=cast`, then `/shows/{id}/crew`
   (writers, directors), and `/people/{id}` only for a cast member the embed gives without a name.
   No match: `/search/shows?q=QUERY` for the closest names. A polite client: at most 20 requests in
   any 10 s, retries with exponential backoff on 429 (honouring Retry-After, capped) and 5xx,
   a timeout per request, a User-Agent that says who we are.
2. map (pure functions): TVmaze JSON → a pack dict in the shape of docs/data-packs.md. Episode air
   times come from `airstamp` (UTC) converted into the drama's time zone, so the loader gets back
   the same UTC instant; specials stay out of the numbering; TVmaze's episode summaries (HTML
   stripped) go into `tvmaze_summary`, credited by a `tvmaze` source (CC BY-SA 4.0).
3. merge with the pack already on disk (found by `drama.external_ids.tvmaze`, else by slug):
   imported facts are updated (air dates and times, TVmaze summaries, episode count, new
   episodes, new people, characters and cast, external ids; empty drama facts are filled in);
   everything written by hand (synopses, titles, descriptions, aliases, facts, relations,
   billing, premise…) keeps its value. Every change is listed.
4. write: a small TOML writer for this known shape; the text is parsed back and validated by the
   catalog loader before it replaces the file (atomically), so a bad import writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import difflib
import email.utils
import json
import os
import re
import tempfile
import time
import tomllib
import unicodedata
import zoneinfo
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot import __version__
from bot.catalog.loader import HHMM, LIMITS, SLUG, parse_pack
from bot.catalog.models import TVMAZE_SOURCE

API_BASE = "https://api.tvmaze.com"
USER_AGENT = f"Dramawatch/{__version__} (self-hosted Discord bot; catalog importer; python-aiohttp)"
RATE_LIMIT = 20  # requests …
RATE_WINDOW = 10.0  # … per this many seconds (TVmaze allows at least 20 per 10 s per IP)
TIMEOUT = 15.0  # seconds per request
RETRIES = 4  # after the first attempt, for 429 and 5xx answers
NETWORK_RETRIES = 2  # for connection failures and timeouts (a host that is down stays down)
BACKOFF = 1.0  # first retry delay; doubles each time
MAX_DELAY = 60.0  # no single wait is longer than this, whatever Retry-After says
MAX_BODY = 32 * 1024 * 1024  # a show with thousands of episodes is a few MB
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

Sleep = Callable[[float], Awaitable[Any]]
Progress = Callable[[str], Any]


# -- errors ------------------------------------------------------------------------------------------------------
class ImportFailure(Exception):
    """An import that cannot go on; the message is one line for the person running it."""


class NoMatch(ImportFailure):
    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        if suggestions:
            closest = "; ".join(suggestions)
            message = f"no TVmaze show matches {query!r}. Closest search results: {closest}"
        else:
            message = f"no TVmaze show matches {query!r}, and TVmaze's search found nothing close"
        super().__init__(message)


class NetworkFailure(ImportFailure):
    pass


class UnexpectedData(ImportFailure):
    def __init__(self, where: str, what: str) -> None:
        self.where = where
        super().__init__(f"TVmaze's answer is not in the expected shape: {where}: {what}")


class InvalidPack(ImportFailure):
    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        first = problems[0] if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"the imported pack for {path} would not validate, so nothing was written: {first}{more}")


# -- the client --------------------------------------------------------------------------------------------------
def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        reason = os.strerror(error.errno) if error is not None and error.errno else str(error or exc)
        return f"cannot connect ({reason})"
    return str(exc) or type(exc).__name__


class TVmazeClient:
    """A polite JSON client for TVmaze's API. `sleep` and `clock` are injectable so tests of the
    rate limit and the backoff record the waits instead of waiting."""

    def __init__(
        self,
        api_base: str = API_BASE,
        *,
        timeout: float = TIMEOUT,
        retries: int = RETRIES,
        network_retries: int = NETWORK_RETRIES,
        backoff: float = BACKOFF,
        max_delay: float = MAX_DELAY,
        rate: int = RATE_LIMIT,
        window: float = RATE_WINDOW,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        progress: Progress | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.host = urlsplit(self.api_base).netloc or self.api_base
        self.timeout = timeout
        self.retries = retries
        self.network_retries = min(network_retries, retries)
        self.backoff = backoff
        self.max_delay = max_delay
        self.rate = rate
        self.window = window
        self.requests = 0
        self._sleep = sleep
        self._clock = clock
        self._progress = progress
        self._user_agent = user_agent
        self._sent: deque[float] = deque()
        self._turn = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> TVmazeClient:
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": self._user_agent, "Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    async def _wait_turn(self) -> None:
        """A sliding window: at most `rate` requests start in any `window` seconds."""
        async with self._turn:
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.rate:
                    self._sent.append(now)
                    return
                wait = self.window - (now - self._sent[0])
                self._say(f"pausing {wait:.1f} s to stay within TVmaze's rate limit")
                await self._sleep(wait)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = retry_after if retry_after is not None else self.backoff * 2**attempt
        return min(self.max_delay, delay)

    async def get(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        """The JSON at `path`, or None when TVmaze answers 404 (nothing there)."""
        assert self._session is not None, "use `async with TVmazeClient(...)`"
        url = self.api_base + path
        last = ""
        attempt = network_failures = 0
        while True:
            attempt += 1
            await self._wait_turn()
            self.requests += 1
            self._say(f"TVmaze request {self.requests}: {path}")
            retry_after: float | None = None
            try:
                async with self._session.get(url, params=params) as response:
                    status = response.status
                    if status == 404:
                        return None
                    if status == 429 or status >= 500:
                        last = f"HTTP {status}"
                        retry_after = _retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
                    elif status != 200:
                        raise ImportFailure(f"{self.host} answered HTTP {status} to {path}; cannot import")
                    else:
                        body = await self._read(response, path)
                        try:
                            return json.loads(body)
                        except ValueError as exc:
                            raise UnexpectedData(path, f"the answer is not valid JSON ({exc})") from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = _describe(exc, self.timeout)
                network_failures += 1
                if network_failures > self.network_retries:
                    break
            if attempt > self.retries:
                break
            delay = self._delay(attempt - 1, retry_after)
            why = "asked to slow down" if last == "HTTP 429" else last
            self._say(f"{self.host}: {why}; retrying in {delay:g} s")
            await self._sleep(delay)
        if last.startswith("HTTP "):
            raise ImportFailure(f"{self.host} kept answering {last} to {path} ({attempt} attempts); try again later")
        raise NetworkFailure(f"cannot reach {self.host}: {last} ({attempt} attempts, requesting {path})")

    async def _read(self, response: aiohttp.ClientResponse, path: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > MAX_BODY:
                raise UnexpectedData(path, f"the answer is larger than {MAX_BODY // (1024 * 1024)} MB")
            chunks.append(chunk)
        return b"".join(chunks)


# -- reading TVmaze's JSON ---------------------------------------------------------------------------------------
_KINDS: dict[str, tuple[type, ...]] = {"int": (int,), "str": (str,), "list": (list,), "dict": (dict,), "bool": (bool,)}


def _kind_of(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _get(obj: dict[str, Any], key: str, where: str, kind: str, *, required: bool = False) -> Any:
    """obj[key] checked to be of `kind`; None when missing or null and not required."""
    value = obj.get(key)
    path = f"{where}.{key}"
    if value is None:
        if required:
            raise UnexpectedData(path, "is missing" if key not in obj else "is null")
        return None
    ok = isinstance(value, _KINDS[kind]) and not (kind == "int" and isinstance(value, bool))
    if not ok:
        wanted = {"int": "a whole number", "str": "text", "list": "a list", "dict": "an object", "bool": "true/false"}
        raise UnexpectedData(path, f"expected {wanted[kind]}, got {_kind_of(value)} {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnexpectedData(where, f"expected an object, got {_kind_of(value)} {_short(value)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise UnexpectedData(where, f"expected a list, got {_kind_of(value)} {_short(value)}")
    return value


@dataclass
class ShowData:
    """Everything fetched for one show."""

    show: dict[str, Any]
    crew: list[Any]
    people: dict[int, dict[str, Any]] = field(default_factory=dict)  # fetched /people/{id}, by id


async def fetch_show(client: TVmazeClient, query: str) -> ShowData:
    params = [("q", query), ("embed[]", "episodes"), ("embed[]", "cast")]
    found = await client.get("/singlesearch/shows", params)
    if found is None:
        results = await client.get("/search/shows", [("q", query)]) or []
        raise NoMatch(query, _suggestions(results))
    show = _object(found, "show")
    show_id = _get(show, "id", "show", "int", required=True)
    embedded = _get(show, "_embedded", "show", "dict", required=True)
    _get(embedded, "episodes", "show._embedded", "list", required=True)
    cast = _get(embedded, "cast", "show._embedded", "list", required=True)
    crew = _list(await client.get(f"/shows/{show_id}/crew") or [], "crew")
    people: dict[int, dict[str, Any]] = {}
    for i, raw in enumerate(cast):
        person = _get(_object(raw, f"show._embedded.cast[{i}]"), "person", f"show._embedded.cast[{i}]", "dict")
        if person is None:
            continue
        pid = _get(person, "id", f"show._embedded.cast[{i}].person", "int", required=True)
        if not person.get("name") and pid not in people:  # the embed left the name out: ask for the person
            fetched = await client.get(f"/people/{pid}")
            if fetched is not None:
                people[pid] = _object(fetched, f"people/{pid}")
    return ShowData(show, crew, people)


def _suggestions(results: Any, limit: int = 5) -> list[str]:
    names: list[str] = []
    if not isinstance(results, list):
        return names
    for item in results:
        show = item.get("show") if isinstance(item, dict) else None
        if not isinstance(show, dict) or not isinstance(show.get("name"), str):
            continue
        premiered = show.get("premiered")
        year = f" ({premiered[:4]})" if isinstance(premiered, str) and premiered[:4].isdigit() else ""
        names.append(f"{show['name']}{year}")
        if len(names) == limit:
            break
    return names


# -- mapping: TVmaze JSON → pack dict ------------------------------------------------------------------------------
def slugify(text: str) -> str:
    """ASCII, lowercase, words joined by hyphens; accents transliterated ("Zoé" → "zoe"). May be ""."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    ascii_text = ascii_text.replace("'", "").replace("\u2019", "")
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text))


def _unique(slug: str, taken: set[str]) -> str:
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


def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
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
        zone = country.get("timezone") if isinstance(country, dict) else None
        if isinstance(zone, str) and _zone(zone) is not None:
            return zone
    language = show.get("language")
    return LANGUAGE_TIMEZONES.get(language, DEFAULT_TIMEZONE) if isinstance(language, str) else DEFAULT_TIMEZONE


def _schedule(days: list[Any]) -> str:
    names = [f"{d}s" for d in days if isinstance(d, str) and d]
    if not names:
        return ""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _date(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise UnexpectedData(where, f"expected a date as YYYY-MM-DD, got {_kind_of(value)} {_short(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnexpectedData(where, f"expected a date as YYYY-MM-DD, got {_short(value)}") from None


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
    known_people = known_people or {}
    notes: list[str] = []
    show_id = _get(show, "id", "show", "int", required=True)
    name = _get(show, "name", "show", "str", required=True).strip()
    if not name:
        raise UnexpectedData("show.name", "is empty")
    zone_name = timezone or show_timezone(show)
    zone = _zone(zone_name)
    if zone is None:
        raise ImportFailure(f"{zone_name!r} is not an IANA time zone; fix drama.timezone in the pack")
    url = show.get("url") if isinstance(show.get("url"), str) and show["url"].startswith("https://") else ""
    url = url or f"https://www.tvmaze.com/shows/{show_id}"

    episodes, first_day = _episodes(show, zone, notes)
    if not episodes:
        raise ImportFailure(f"TVmaze lists no dated episodes for {name!r} yet; nothing to import")
    premiered = _get(show, "premiered", "show", "str")
    year = _date(premiered, "show.premiered").year if premiered else first_day.year
    times = [e.get("air_time", "") for e in episodes]
    default_time = Counter(times).most_common(1)[0][0] if all(times) else ""

    drama: dict[str, Any] = {"slug": slug or slugify(name) or f"tvmaze-{show_id}", "title": _fit(name)}
    network = _get(show, "network", "show", "dict")
    web = _get(show, "webChannel", "show", "dict")
    if network and isinstance(network.get("name"), str) and network["name"].strip():
        drama["network"] = network["name"].strip()
    if web and isinstance(web.get("name"), str) and web["name"].strip():
        drama["streamers"] = [web["name"].strip()]
    drama["year"] = year
    drama["timezone"] = zone_name
    if default_time:
        drama["air_time"] = default_time
    schedule = _get(show, "schedule", "show", "dict") or {}
    days = _get(schedule, "days", "show.schedule", "list") or []
    if _schedule(days):
        drama["schedule"] = _schedule(days)
    runtime = _get(show, "runtime", "show", "int") or _get(show, "averageRuntime", "show", "int")
    if runtime and runtime > 0:
        drama["runtime_minutes"] = runtime
    drama["episode_count"] = len(episodes)
    writers, directors = _crew(data.crew)
    if writers:
        drama["writers"] = writers
    if directors:
        drama["directors"] = directors
    external_ids: dict[str, Any] = {"tvmaze": show_id}
    externals = _get(show, "externals", "show", "dict") or {}
    for key in ("imdb", "thetvdb", "tvrage"):
        value = externals.get(key)
        if isinstance(value, str) and value.strip() or isinstance(value, int) and not isinstance(value, bool):
            external_ids[key] = value.strip() if isinstance(value, str) else value
    drama["external_ids"] = external_ids

    people, characters, cast = _cast(data, known_people)
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
    return Built(pack, notes)


def _episodes(show: dict[str, Any], zone: zoneinfo.ZoneInfo, notes: list[str]) -> tuple[list[dict[str, Any]], date]:
    raw = show["_embedded"]["episodes"]
    regular: list[tuple[int, int, int, dict[str, Any]]] = []
    specials = 0
    for i, item in enumerate(raw):
        where = f"show._embedded.episodes[{i}]"
        ep = _object(item, where)
        kind = _get(ep, "type", where, "str") or "regular"
        number = _get(ep, "number", where, "int")
        if kind != "regular" or number is None:
            specials += 1
            continue
        season = _get(ep, "season", where, "int") or 1
        regular.append((season, number, i, ep))
    regular.sort(key=lambda r: (r[0], r[1]))
    if specials:
        notes.append(f"{specials} special(s) left out of the episode numbering")
    episodes: list[dict[str, Any]] = []
    first_day: date | None = None
    for n, (_season, _number, i, ep) in enumerate(regular, start=1):
        where = f"show._embedded.episodes[{i}]"
        airdate = _get(ep, "airdate", where, "str")
        if not airdate:
            notes.append(f"{len(regular) - n + 1} episode(s) without an air date yet left out (from episode {n})")
            break
        day = _date(airdate, f"{where}.airdate")
        airtime = (_get(ep, "airtime", where, "str") or "").strip()
        airstamp = _get(ep, "airstamp", where, "str")
        entry: dict[str, Any] = {"number": n}
        title = (_get(ep, "name", where, "str") or "").strip()
        if title and not GENERIC_TITLE.match(title):
            entry["title"] = _fit(title)
        if airtime:
            if not HHMM.match(airtime):
                raise UnexpectedData(f"{where}.airtime", f"expected a time as HH:MM, got {_short(airtime)}")
            if airstamp:
                try:
                    instant = datetime.fromisoformat(airstamp.replace("Z", "+00:00"))
                except ValueError:
                    raise UnexpectedData(f"{where}.airstamp", f"expected an ISO time, got {_short(airstamp)}") from None
                if instant.tzinfo is None:
                    raise UnexpectedData(f"{where}.airstamp", f"has no UTC offset: {_short(airstamp)}")
                local = instant.astimezone(zone)
                day, airtime = local.date(), f"{local:%H:%M}"
            entry["air_date"] = day.isoformat()
            entry["air_time"] = airtime
        else:  # a release (streaming drop): dated, no slot
            entry["air_date"] = day.isoformat()
        summary = _get(ep, "summary", where, "str")
        if summary and strip_html(summary):
            entry["tvmaze_summary"] = strip_html(summary)
        first_day = first_day or day
        episodes.append(entry)
    return episodes, first_day or date.today()


def _crew(crew: list[Any]) -> tuple[list[str], list[str]]:
    writers: list[str] = []
    directors: list[str] = []
    for i, item in enumerate(crew):
        where = f"crew[{i}]"
        entry = _object(item, where)
        kind = _get(entry, "type", where, "str") or ""
        person = _get(entry, "person", where, "dict") or {}
        name = (_get(person, "name", f"{where}.person", "str") or "").strip()
        if not name:
            continue
        if kind in WRITER_TYPES and name not in writers:
            writers.append(_fit(name))
        elif kind in DIRECTOR_TYPES and name not in directors:
            directors.append(_fit(name))
    return writers, directors


def _cast(
    data: ShowData, known_people: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    people: list[dict[str, Any]] = []
    characters: list[dict[str, Any]] = []
    cast: list[dict[str, Any]] = []
    person_slugs: dict[int, str] = {}
    character_slugs: dict[int, str] = {}
    character_names: dict[str, str] = {}  # casefolded name → slug
    taken_people: set[str] = set()
    taken_characters: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for i, item in enumerate(data.show["_embedded"]["cast"]):
        where = f"show._embedded.cast[{i}]"
        entry = _object(item, where)
        person = _get(entry, "person", where, "dict", required=True)
        character = _get(entry, "character", where, "dict", required=True)
        pid = _get(person, "id", f"{where}.person", "int", required=True)
        cid = _get(character, "id", f"{where}.character", "int", required=True)
        if pid not in person_slugs:
            source = data.people.get(pid, person)
            pname = (_get(source, "name", f"{where}.person", "str", required=True) or "").strip()
            if not pname:
                raise UnexpectedData(f"{where}.person.name", "is empty")
            pslug = _unique(slugify(pname) or f"person-{pid}", taken_people)
            pname = known_people.get(pslug, _fit(pname))
            person_slugs[pid] = pslug
            people.append({"slug": pslug, "name": pname})
        cname = (_get(character, "name", f"{where}.character", "str", required=True) or "").strip()
        if not cname:
            raise UnexpectedData(f"{where}.character.name", "is empty")
        # "Oh Ae-sun (young)" and "Oh Ae-sun (older)": one character, two actors with a note each.
        phase = AGE_NOTE.match(cname)
        base, age = (phase.group(1).strip(), phase.group(2).lower()) if phase else (cname, "")
        if cid not in character_slugs:
            cslug = character_names.get(base.casefold())
            if cslug is None:
                cslug = _unique(slugify(base) or f"character-{cid}", taken_characters)
                character_names[base.casefold()] = cslug
                billing = "main" if len(characters) < MAIN_BILLED else "supporting"
                characters.append({"slug": cslug, "name": _fit(base), "billing": billing})
            character_slugs[cid] = cslug
        pair = (character_slugs[cid], person_slugs[pid])
        if pair in pairs:
            continue
        pairs.add(pair)
        row: dict[str, Any] = {"character": pair[0], "person": pair[1]}
        note = ", ".join(n for n in (age, "voice" if _get(entry, "voice", where, "bool") else "") if n)
        if note:
            row["note"] = note
        cast.append(row)
    return people, characters, cast


# -- merging a re-import into the pack on disk -------------------------------------------------------------------
def _day_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value or "").strip()


def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def merge_packs(existing: dict[str, Any] | None, fresh: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The pack on disk updated with a fresh import, and the changes as lines for people.

    Imported facts are updated: air dates and times, TVmaze summaries, the episode count, new
    episodes, new people, characters and cast entries, external ids, the `tvmaze` source when
    missing; drama facts that are empty on disk (network, schedule, writers…) are filled in.
    Everything else keeps the value on disk, above all what people wrote: synopses, episode titles,
    descriptions, aliases, facts, relations, billing, the premise.
    """
    if existing is None:
        pack = copy.deepcopy(fresh)
        e = len(pack["episodes"])
        days = f" ({pack['episodes'][0]['air_date']} – {pack['episodes'][-1]['air_date']})" if e else ""
        return pack, [
            f"new pack: {e} episode(s){days}, {len(pack['characters'])} character(s), "
            f"{len(pack['people'])} people, {len(pack['cast'])} cast entries"
        ]
    merged = copy.deepcopy(existing)
    changes: list[str] = []
    drama = merged.get("drama")
    if not isinstance(drama, dict):
        drama = merged["drama"] = {}
    fresh_drama = fresh["drama"]

    for key in ("network", "streamers", "year", "schedule", "runtime_minutes", "writers", "directors"):
        if key in fresh_drama and not drama.get(key):
            drama[key] = copy.deepcopy(fresh_drama[key])
            changes.append(f"drama.{key}: set to {_shown(fresh_drama[key])}")
    ids = drama.get("external_ids")
    if not isinstance(ids, dict):
        ids = drama["external_ids"] = {}
    for key, value in fresh_drama["external_ids"].items():
        if key not in ids:
            ids[key] = value
            changes.append(f"drama.external_ids.{key}: set to {value}")
        elif ids[key] != value:
            changes.append(f"drama.external_ids.{key}: {ids[key]} → {value}")
            ids[key] = value

    sources = merged.get("sources")
    if not isinstance(sources, list):
        sources = merged["sources"] = []
    if not any(isinstance(s, dict) and s.get("id") == TVMAZE_SOURCE for s in sources):
        sources.append(copy.deepcopy(fresh["sources"][0]))
        changes.append(f"sources: added {TVMAZE_SOURCE!r} ({TVMAZE_LICENCE}) to credit TVmaze's summaries")

    changes += _merge_episodes(merged, drama, fresh["episodes"])
    changes += _merge_cast(merged, fresh)
    return merged, changes


def _merge_episodes(merged: dict[str, Any], drama: dict[str, Any], fresh: list[dict[str, Any]]) -> list[str]:
    changes: list[str] = []
    episodes = merged.get("episodes")
    if not isinstance(episodes, list):
        episodes = merged["episodes"] = []
    default = drama.get("air_time") if isinstance(drama.get("air_time"), str) else ""
    by_number = {ep["number"]: ep for ep in episodes if isinstance(ep, dict) and _is_number(ep.get("number"))}
    if default and any(not ep.get("air_time") for ep in fresh):
        # A release (no time slot) cannot inherit drama.air_time: spell the slot out per episode.
        for ep in by_number.values():
            ep.setdefault("air_time", default)
        del drama["air_time"]
        changes.append(f"drama.air_time: {default} removed (now given per episode; some episodes are releases)")
        default = ""

    def effective(ep: dict[str, Any]) -> str:
        value = ep.get("air_time")
        return value.strip() if isinstance(value, str) and value.strip() else default

    def set_time(ep: dict[str, Any], value: str) -> None:
        if value and value == default:
            ep.pop("air_time", None)
        elif value:
            ep["air_time"] = value
        else:
            ep.pop("air_time", None)

    for new in fresh:
        n = new["number"]
        old = by_number.get(n)
        if old is None:
            entry = {k: v for k, v in new.items() if k != "air_time"}
            set_time(entry, new.get("air_time", ""))
            episodes.append(entry)
            by_number[n] = entry
            slot = f" {new['air_time']}" if new.get("air_time") else ""
            changes.append(f"episode {n}: added ({new['air_date']}{slot})")
            continue
        if _day_text(old.get("air_date")) != new["air_date"]:
            changes.append(f"episode {n}: air_date {_day_text(old.get('air_date')) or '(none)'} → {new['air_date']}")
            old["air_date"] = new["air_date"]
        was, now = effective(old), new.get("air_time", "")
        if was != now:
            changes.append(f"episode {n}: air_time {was or '(release)'} → {now or '(release)'}")
            set_time(old, now)
        if new.get("title") and not old.get("title"):
            old["title"] = new["title"]
            changes.append(f"episode {n}: title set to {new['title']!r}")
        summary_was, summary_now = old.get("tvmaze_summary") or "", new.get("tvmaze_summary") or ""
        if summary_was != summary_now:
            what = "added" if not summary_was else ("removed" if not summary_now else "updated")
            changes.append(f"episode {n}: TVmaze summary {what}")
            if summary_now:
                old["tvmaze_summary"] = summary_now
            else:
                old.pop("tvmaze_summary", None)
    on_tvmaze = {ep["number"] for ep in fresh}
    for n in sorted(set(by_number) - on_tvmaze):
        changes.append(f"episode {n}: not on TVmaze (kept as it is)")
    episodes.sort(key=lambda ep: (0, ep["number"]) if isinstance(ep, dict) and _is_number(ep.get("number")) else (1, 0))
    count = drama.get("episode_count")
    top = max(by_number, default=0)
    if not _is_number(count) or count < top:
        changes.insert(0, f"drama.episode_count: {count if count is not None else '(none)'} → {top}")
        drama["episode_count"] = top
    return changes


def _merge_cast(merged: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """New people and characters (matched to those on disk by slug, else by name) and new cast pairs."""
    changes: list[str] = []
    slug_maps: dict[str, dict[str, str]] = {}
    names: dict[str, dict[str, str]] = {}
    for section, label in (("people", "person"), ("characters", "character")):
        rows = merged.get(section)
        if not isinstance(rows, list):
            rows = merged[section] = []
        named = [r for r in rows if isinstance(r, dict) and isinstance(r.get("slug"), str)]
        slugs = {r["slug"] for r in named}
        by_name = {r["name"].casefold(): r["slug"] for r in named if isinstance(r.get("name"), str)}
        mapping: dict[str, str] = {}
        for row in fresh[section]:
            if row["slug"] in slugs:
                mapping[row["slug"]] = row["slug"]
            elif row["name"].casefold() in by_name:
                mapping[row["slug"]] = by_name[row["name"].casefold()]
            else:
                slug = _unique(row["slug"], slugs)
                rows.append({**copy.deepcopy(row), "slug": slug})
                mapping[row["slug"]] = slug
                changes.append(f"{label} {slug} ({row['name']}): added")
        slug_maps[section] = mapping
        names[section] = {
            r["slug"]: r["name"]
            for r in rows
            if isinstance(r, dict) and isinstance(r.get("slug"), str) and isinstance(r.get("name"), str)
        }
    cast = merged.get("cast")
    if not isinstance(cast, list):
        cast = merged["cast"] = []
    pairs = {(c.get("character"), c.get("person")) for c in cast if isinstance(c, dict)}
    for row in fresh["cast"]:
        character = slug_maps["characters"][row["character"]]
        person = slug_maps["people"][row["person"]]
        if (character, person) in pairs:
            continue
        pairs.add((character, person))
        cast.append({**copy.deepcopy(row), "character": character, "person": person})
        who = names["people"].get(person, person)
        role = names["characters"].get(character, character)
        changes.append(f"cast: {who} as {role}: added")
    return changes


# -- writing TOML ----------------------------------------------------------------------------------------------------
SECTIONS = ("drama", "sources", "episodes", "people", "characters", "cast")
KEY_ORDER = {
    "drama": (
        "slug title title_ko aliases network streamers year timezone air_time schedule runtime_minutes "
        "episode_count writers directors premise external_ids"
    ).split(),
    "sources": "id name licence url attribution".split(),
    "episodes": "number title air_date air_time synopsis source tvmaze_summary".split(),
    "people": "slug name name_ko aliases".split(),
    "characters": "slug name name_ko aliases billing description relations facts".split(),
    "cast": "character person note".split(),
    "external_ids": "tvmaze imdb thetvdb tvrage".split(),
    "relations": "to kind episode".split(),
    "facts": "episode text".split(),
}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped; the rest as is
    (lone surrogates, which UTF-8 cannot carry, become U+FFFD)."""
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def _ordered(table: dict[str, Any], order: Iterable[str]) -> list[str]:
    known = [k for k in order if k in table]
    return known + sorted(k for k in table if k not in known)


def _value(value: Any, order_hint: str = "") -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | clock_time):
        return value.isoformat()
    if isinstance(value, dict):
        keys = _ordered(value, KEY_ORDER.get(order_hint, ()))
        if not keys:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {_value(value[k])}" for k in keys) + " }"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, dict) for v in value):
            inner = "".join(f"  {_value(v, order_hint)},\n" for v in value)
            return "[\n" + inner + "]"
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _table_lines(table: dict[str, Any], name: str, header: str) -> list[str]:
    """`[name]`/`[[name]]` with its plain keys; nested tables as `[name.key]` sub-tables."""
    lines = [header]
    subtables = []
    for key in _ordered(table, KEY_ORDER.get(name, ())):
        value = table[key]
        if isinstance(value, dict) and header.startswith("[") and not header.startswith("[["):
            subtables.append(key)
            continue
        lines.append(f"{_key(key)} = {_value(value, key)}")
    for key in subtables:
        lines.append("")
        lines.append(f"[{_key(name)}.{_key(key)}]")
        sub = table[key]
        for subkey in _ordered(sub, KEY_ORDER.get(key, ())):
            lines.append(f"{_key(subkey)} = {_value(sub[subkey], subkey)}")
    return lines


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dump_pack(pack: dict[str, Any], header: str = "") -> str:
    """The pack as TOML text, in the order of docs/data-packs.md; `header` (comment lines) first."""
    lines: list[str] = [header.rstrip("\n")] if header.strip() else []
    tables = [k for k in pack if isinstance(pack[k], dict) or _is_table_array(pack[k])]
    for key in sorted(k for k in pack if k not in tables):  # plain keys must come before any table
        lines.append(f"{_key(key)} = {_value(pack[key])}")
    for key in [k for k in SECTIONS if k in tables] + sorted(k for k in tables if k not in SECTIONS):
        value = pack[key]
        if isinstance(value, dict):
            lines.append("")
            lines += _table_lines(value, key, f"[{_key(key)}]")
            continue
        if key in ("episodes", "people", "characters", "cast"):
            lines += ["", f"# {'-' * 64} {key}"]
        for row in value:
            lines.append("")
            lines += _table_lines(row, key, f"[[{_key(key)}]]")
    return "\n".join(lines).lstrip("\n") + "\n"


def compact_times(pack: dict[str, Any]) -> dict[str, Any]:
    """A copy in which episodes whose air_time equals drama.air_time leave it out (they inherit it)."""
    pack = copy.deepcopy(pack)
    default = pack.get("drama", {}).get("air_time") if isinstance(pack.get("drama"), dict) else None
    if isinstance(default, str) and default:
        for ep in pack.get("episodes", []):
            if isinstance(ep, dict) and ep.get("air_time") == default:
                del ep["air_time"]
    return pack


def leading_comments(text: str) -> str:
    """The comment block at the top of a pack file (kept on re-import; other comments are not)."""
    kept: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") or (not line.strip() and kept):
            kept.append(line)
        else:
            break
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)


# -- the whole import ----------------------------------------------------------------------------------------------
@dataclass
class ImportResult:
    path: Path
    show_id: int
    show_name: str
    created: bool
    written: bool
    changes: list[str]
    notes: list[str]
    diff: str
    credit_url: str
    requests: int = 0


@dataclass
class _Pack:
    path: Path
    data: dict[str, Any] | None
    text: str


def _read_packs(folder: Path) -> list[_Pack]:
    packs: list[_Pack] = []
    if not folder.is_dir():
        return packs
    for path in sorted(folder.glob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            packs.append(_Pack(path, None, ""))
            continue
        packs.append(_Pack(path, data, text))
    return packs


def _drama_of(pack: _Pack) -> dict[str, Any]:
    drama = pack.data.get("drama") if pack.data else None
    return drama if isinstance(drama, dict) else {}


def _tvmaze_id(pack: _Pack) -> Any:
    ids = _drama_of(pack).get("external_ids")
    return ids.get("tvmaze") if isinstance(ids, dict) else None


def _choose_target(packs: list[_Pack], folder: Path, show_id: int, slug: str, explicit: bool) -> _Pack:
    """The pack already holding this show (by TVmaze id, else by slug), or a new file SLUG.toml."""
    for pack in packs:
        if _tvmaze_id(pack) == show_id:
            held = _drama_of(pack).get("slug")
            if explicit and held != slug:
                raise ImportFailure(
                    f"{pack.path} already holds TVmaze show {show_id} as {held!r}; drop --slug to update it"
                )
            return pack
    for pack in packs:
        if _drama_of(pack).get("slug") == slug:
            other = _tvmaze_id(pack)
            if other is not None:
                raise ImportFailure(
                    f"{pack.path} holds another TVmaze show ({other}) under the slug {slug!r}; choose one with --slug"
                )
            return pack
    path = folder / f"{slug}.toml"
    for pack in packs:
        if pack.path == path:
            if pack.data is None:
                raise ImportFailure(f"{path} exists but is not a readable TOML pack; fix it or choose --slug")
            held = _drama_of(pack).get("slug")
            raise ImportFailure(f"{path} holds another drama ({held!r}); choose another slug with --slug")
    return _Pack(path, None, "")


def _known_people(packs: list[_Pack], target: Path) -> dict[str, str]:
    known: dict[str, str] = {}
    for pack in packs:
        if pack.path == target or pack.data is None:
            continue
        rows = pack.data.get("people")
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("slug"), str) and isinstance(row.get("name"), str):
                known.setdefault(row["slug"], row["name"])
    return known


def _header(show_name: str, url: str) -> str:
    return "\n".join(
        [
            f"# {show_name}: imported with `python -m bot catalog import tvmaze`, from {url}",
            "# Facts and the tvmaze_summary texts come from TVmaze, CC BY-SA 4.0 (credited by the",
            "# 'tvmaze' source). Synopses, descriptions, aliases and facts are ours: write them here;",
            "# a re-import updates dates, episodes and cast and keeps them (and this header comment).",
        ]
    )


def _check_writable(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ImportFailure(f"--out {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImportFailure(f"cannot create the output folder {folder} ({exc.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImportFailure(f"the output folder {folder} is not writable by this user")


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ImportFailure(f"cannot write {path} ({exc.strerror})") from None


async def import_tvmaze(
    query: str,
    out_dir: Path,
    *,
    slug: str | None = None,
    api_base: str = API_BASE,
    dry_run: bool = False,
    sleep: Sleep = asyncio.sleep,
    progress: Progress | None = None,
    client: TVmazeClient | None = None,
) -> ImportResult:
    """Fetch, map, merge, validate and (unless `dry_run`) write. Raises ImportFailure subclasses."""
    if slug is not None and not SLUG.match(slug):
        raise ImportFailure(f"--slug {slug!r} is not a slug (lowercase letters and digits joined by single hyphens)")
    if not dry_run:
        await asyncio.to_thread(_check_writable, out_dir)
    client = client or TVmazeClient(api_base, sleep=sleep, progress=progress)
    async with client:
        data = await fetch_show(client, query)
    # The files: off the event loop.
    result = await asyncio.to_thread(apply_import, data, out_dir, slug=slug, dry_run=dry_run)
    result.requests = client.requests
    return result


def apply_import(data: ShowData, out_dir: Path, *, slug: str | None = None, dry_run: bool = False) -> ImportResult:
    """Map fetched data, merge it into the pack on disk (if any), validate, and write unless `dry_run`."""
    show_id = _get(data.show, "id", "show", "int", required=True)
    name = _get(data.show, "name", "show", "str", required=True)
    packs = _read_packs(out_dir)
    target = _choose_target(packs, out_dir, show_id, slug or slugify(name) or f"tvmaze-{show_id}", slug is not None)
    existing = copy.deepcopy(target.data) if target.data is not None else None
    drama = _drama_of(target)
    held_slug = drama.get("slug") if isinstance(drama.get("slug"), str) else None
    zone = drama.get("timezone") if isinstance(drama.get("timezone"), str) and _zone(drama["timezone"]) else None
    known_people = _known_people(packs, target.path)
    built = build_pack(data, slug=held_slug or slug or None, timezone=zone, known_people=known_people)
    merged, changes = merge_packs(existing, built.pack)
    url = built.pack["sources"][0]["url"]
    header = leading_comments(target.text) if existing is not None else _header(name, url)
    text = dump_pack(compact_times(merged) if existing is None else merged, header)
    problems = _validate(text, target.path, known_people)
    if problems:
        raise InvalidPack(target.path, problems)
    diff = "".join(
        difflib.unified_diff(
            target.text.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{target.path} (now)" if existing is not None else "/dev/null",
            tofile=f"{target.path} (after import)",
        )
    )
    written = False
    if changes and not dry_run:
        _write(target.path, text)
        written = True
    return ImportResult(
        path=target.path,
        show_id=show_id,
        show_name=name,
        created=existing is None,
        written=written,
        changes=changes,
        notes=built.notes,
        diff=diff,
        credit_url=url,
    )


def _validate(text: str, path: Path, known_people: dict[str, str]) -> list[str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # a bug in the writer; never write such a file
        return [f"{path}: not valid TOML: {exc}"]
    _drama, people, problems = parse_pack(data, str(path))
    for person in people:
        known = known_people.get(person.slug)
        if known is not None and known != person.name:
            problems.append(
                f"{path}: people[{person.slug}].name: {person.name!r} differs from {known!r} in another pack"
            )
    return problems
