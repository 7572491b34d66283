"""Fetching from TVmaze's API: a polite JSON client, and checked reading of the JSON it sends.

At most 20 requests in any 10 s, retries with exponential backoff on 429 (honouring Retry-After,
capped) and 5xx, a timeout per request, a User-Agent that says who we are.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, overload
from urllib.parse import urlsplit

import aiohttp

from bot import __version__
from bot.catalog.search import normalise
from bot.catalog.tvmaze.errors import Ambiguous, ImportFailure, NetworkFailure, NoMatch, UnexpectedData

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

Sleep = Callable[[float], Awaitable[Any]]
Progress = Callable[[str], Any]
T = TypeVar("T")


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
_WANTED: dict[type, str] = {int: "a whole number", str: "text", list: "a list", dict: "an object", bool: "true/false"}


def kind_of(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


@overload
def json_get(obj: dict[str, Any], key: str, where: str, kind: type[T], *, required: Literal[True]) -> T: ...
@overload
def json_get(obj: dict[str, Any], key: str, where: str, kind: type[T], *, required: bool = False) -> T | None: ...
def json_get(obj: dict[str, Any], key: str, where: str, kind: type[T], *, required: bool = False) -> T | None:
    """obj[key] checked to be a `kind` (int, str, list, dict or bool); None when missing or null and
    not required."""
    value = obj.get(key)
    path = f"{where}.{key}"
    if value is None:
        if required:
            raise UnexpectedData(path, "is missing" if key not in obj else "is null")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UnexpectedData(path, f"expected {_WANTED[kind]}, got {kind_of(value)} {short(value)}")
    return value


def json_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnexpectedData(where, f"expected an object, got {kind_of(value)} {short(value)}")
    return value


def json_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise UnexpectedData(where, f"expected a list, got {kind_of(value)} {short(value)}")
    return value


# -- fetching a show ---------------------------------------------------------------------------------------------
@dataclass
class ShowData:
    """Everything fetched for one show."""

    show: dict[str, Any]
    crew: list[Any]
    people: dict[int, dict[str, Any]] = field(default_factory=dict)  # fetched /people/{id}, by id


async def fetch_show(client: TVmazeClient, query: str) -> ShowData:
    """`/singlesearch/shows` with the episodes and cast embedded, then the crew, then any cast member
    the embed gives without a name. No match: :class:`NoMatch` with TVmaze's closest search results."""
    params = [("q", query), ("embed[]", "episodes"), ("embed[]", "cast")]
    found = await client.get("/singlesearch/shows", params)
    if found is None:
        results = await client.get("/search/shows", [("q", query)]) or []
        raise NoMatch(query, _suggestions(results))
    name = found.get("name") if isinstance(found, dict) else None
    if isinstance(name, str) and normalise(name) != normalise(query):
        # TVmaze's best guess is another title: list the candidates instead of importing a wrong show.
        choices = await search_shows(client, query, count_episodes=0)
        raise Ambiguous(query, name, [_choice(c) for c in choices])
    return await _complete(client, found)


def _choice(candidate: Candidate) -> str:
    about = ", ".join(b for b in (candidate.year, candidate.network, f"id {candidate.id}") if b)
    return f"{candidate.name} ({about})"


async def fetch_show_by_id(client: TVmazeClient, show_id: int) -> ShowData:
    """`/shows/{id}` with the episodes and cast embedded, then the crew and unnamed cast members."""
    found = await client.get(f"/shows/{show_id}", [("embed[]", "episodes"), ("embed[]", "cast")])
    if found is None:
        raise NoMatch(f"TVmaze show {show_id}", [])
    return await _complete(client, found)


async def _complete(client: TVmazeClient, found: Any) -> ShowData:
    show = json_object(found, "show")
    show_id = json_get(show, "id", "show", int, required=True)
    embedded = json_get(show, "_embedded", "show", dict, required=True)
    json_get(embedded, "episodes", "show._embedded", list, required=True)
    cast = json_get(embedded, "cast", "show._embedded", list, required=True)
    crew = json_list(await client.get(f"/shows/{show_id}/crew") or [], "crew")
    people: dict[int, dict[str, Any]] = {}
    for i, raw in enumerate(cast):
        person = json_get(json_object(raw, f"show._embedded.cast[{i}]"), "person", f"show._embedded.cast[{i}]", dict)
        if person is None:
            continue
        pid = json_get(person, "id", f"show._embedded.cast[{i}].person", int, required=True)
        if not person.get("name") and pid not in people:  # the embed left the name out: ask for the person
            fetched = await client.get(f"/people/{pid}")
            if fetched is not None:
                people[pid] = json_object(fetched, f"people/{pid}")
    return ShowData(show=show, crew=crew, people=people)


@dataclass(frozen=True)
class Candidate:
    """One show TVmaze's search found: what a moderator needs to pick the right one."""

    id: int
    name: str
    year: str  # "" when TVmaze doesn't know
    network: str  # the network or streaming service, "" when none
    country: str
    status: str
    episodes: int | None  # None when not fetched
    url: str


async def search_shows(
    client: TVmazeClient, query: str, limit: int = 10, *, count_episodes: int = 5
) -> list[Candidate]:
    """`/search/shows`: up to `limit` candidates, best first; the first `count_episodes` get their
    episode count (one request each, within the client's rate limit)."""
    results = await client.get("/search/shows", [("q", query)]) or []
    found: list[Candidate] = []
    for i, item in enumerate(json_list(results, "search")):
        show = json_get(json_object(item, f"search[{i}]"), "show", f"search[{i}]", dict)
        if show is None or not isinstance(show.get("id"), int) or not isinstance(show.get("name"), str):
            continue
        premiered = show.get("premiered")
        channel = show.get("network") or show.get("webChannel") or {}
        country = (channel.get("country") or {}) if isinstance(channel, dict) else {}
        found.append(
            Candidate(
                id=show["id"],
                name=show["name"],
                year=premiered[:4] if isinstance(premiered, str) and premiered[:4].isdigit() else "",
                network=str(channel.get("name") or "") if isinstance(channel, dict) else "",
                country=str(country.get("name") or "") if isinstance(country, dict) else "",
                status=str(show.get("status") or ""),
                episodes=None,
                url=str(show.get("url") or ""),
            )
        )
        if len(found) == limit:
            break
    counted = await asyncio.gather(*(episode_count(client, c.id) for c in found[:count_episodes]))
    return [dataclasses.replace(c, episodes=counted[i]) if i < len(counted) else c for i, c in enumerate(found)]


async def episode_count(client: TVmazeClient, show_id: int) -> int | None:
    episodes = await client.get(f"/shows/{show_id}/episodes")
    if not isinstance(episodes, list):
        return None
    return sum(1 for e in episodes if isinstance(e, dict) and e.get("type", "regular") == "regular")


async def updated_since(client: TVmazeClient, since: str = "day") -> dict[int, int]:
    """`/updates/shows?since=day|week|month`: show id → its last update (Unix seconds)."""
    raw = await client.get("/updates/shows", [("since", since)]) or {}
    if not isinstance(raw, dict):
        return {}
    return {int(k): int(v) for k, v in raw.items() if str(k).isdigit() and isinstance(v, int)}


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
