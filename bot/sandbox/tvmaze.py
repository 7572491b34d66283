"""A TVmaze-compatible fixture server on loopback, for the sandbox and the tests.

It serves the few endpoints the bot uses (`/search/shows`, `/singlesearch/shows`, `/shows/{id}`
with embedded episodes and cast, `/shows/{id}/episodes`, `/shows/{id}/crew`, `/people/{id}`,
`/updates/shows`) over invented shows — every title, person and network here is fictional — with
air dates placed around the sandbox's "now", so `/catalog add` in the sandbox finds a drama that
is airing. Tests change `shows` (add an episode, move a date) and call `touch` to bump `updated`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

SEOUL = ZoneInfo("Asia/Seoul")


def _airstamp(day: date, at: time) -> str:
    return datetime.combine(day, at, SEOUL).astimezone(UTC).isoformat()


def _episodes(show_id: int, first: date, count: int, weekdays: tuple[int, ...], at: time) -> list[dict[str, Any]]:
    """`count` episodes from `first` on, on the given weekdays (0 = Monday), at `at` Seoul time."""
    episodes, day, number = [], first, 1
    while number <= count:
        if day.weekday() in weekdays:
            episodes.append(
                {
                    "id": show_id * 1000 + number,
                    "name": f"Episode {number}",
                    "season": 1,
                    "number": number,
                    "type": "regular",
                    "airdate": day.isoformat(),
                    "airtime": at.strftime("%H:%M"),
                    "airstamp": _airstamp(day, at),
                    "runtime": 70,
                    "summary": None,
                }
            )
            number += 1
        day += timedelta(days=1)
    return episodes


def _person(pid: int, name: str) -> dict[str, Any]:
    return {"id": pid, "name": name, "url": f"https://www.tvmaze.invalid/people/{pid}"}


def _cast(entries: list[tuple[int, str, int, str]]) -> list[dict[str, Any]]:
    return [{"person": _person(pid, name), "character": {"id": cid, "name": role}} for pid, name, cid, role in entries]


def invented_shows(now: datetime) -> dict[int, dict[str, Any]]:
    """Three fictional shows; the first is airing around `now` (Wednesdays and Thursdays, 21:00 KST)."""
    today = now.astimezone(SEOUL).date()
    airing_from = today - timedelta(days=14)
    shows: list[dict[str, Any]] = [
        {
            "id": 990001,
            "name": "Moonlight Courier",
            "premiered": airing_from.isoformat(),
            "status": "Running",
            "language": "Korean",
            "network": {"name": "Hanbit TV (fictional)", "country": {"name": "South Korea", "timezone": "Asia/Seoul"}},
            "webChannel": None,
            "schedule": {"time": "21:00", "days": ["Wednesday", "Thursday"]},
            "episodes": _episodes(990001, airing_from, 12, (2, 3), time(21, 0)),
            "cast": _cast(
                [
                    (880001, "Han Seo-yun", 770001, "Baek Dal-im"),
                    (880002, "Oh Jae-min", 770002, "Yoon Ha-ram"),
                    (880003, "Seo Min-ji", 770003, "Madam Cha"),
                ]
            ),
            "crew": [
                {"type": "Director", "person": _person(880010, "Ryu Ga-eun")},
                {"type": "Writer", "person": _person(880011, "Jang Bo-ram")},
            ],
        },
        {
            "id": 990002,
            "name": "Moonlight Courier",
            "premiered": "2019-04-05",
            "status": "Ended",
            "language": "Korean",
            "network": None,
            "webChannel": {"name": "StreamBox (fictional)", "country": None},
            "schedule": {"time": "", "days": ["Friday"]},
            "episodes": _episodes(990002, date(2019, 4, 5), 8, (4,), time(0, 0)),
            "cast": _cast([(880021, "Kim Na-rae", 770021, "Courier Lee")]),
            "crew": [],
        },
        {
            "id": 990003,
            "name": "Salt and Pepper Kitchen",
            "premiered": "2025-06-02",
            "status": "Ended",
            "language": "Korean",
            "network": {"name": "Hanbit TV (fictional)", "country": {"name": "South Korea", "timezone": "Asia/Seoul"}},
            "webChannel": None,
            "schedule": {"time": "20:50", "days": ["Monday", "Tuesday"]},
            "episodes": _episodes(990003, date(2025, 6, 2), 16, (0, 1), time(20, 50)),
            "cast": _cast([(880031, "Park Ha-neul", 770031, "Chef Min")]),
            "crew": [{"type": "Writer", "person": _person(880032, "Go Eun-sol")}],
        },
    ]
    for show in shows:
        show["url"] = f"https://www.tvmaze.invalid/shows/{show['id']}"
        show["type"] = "Scripted"
        show["genres"] = ["Drama"]
        show["runtime"] = 70
        show["updated"] = 1_700_000_000
        show["officialSite"] = None
        show["summary"] = "<p>An invented show for trying Dramawatch: none of it is real.</p>"
    return {int(s["id"]): s for s in shows}


@dataclass
class TVmazeFixture:
    """The fixture server. `shows` is its state: change it freely between requests."""

    now: datetime
    shows: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        if not self.shows:
            self.shows = invented_shows(self.now)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def touch(self, show_id: int) -> None:
        """Mark a show as changed (TVmaze's `updated` goes up)."""
        self.shows[show_id]["updated"] = int(self.shows[show_id]["updated"]) + 60

    def _public(self, show: dict[str, Any], embed: list[str]) -> dict[str, Any]:
        body = {k: copy.deepcopy(v) for k, v in show.items() if k not in ("episodes", "cast", "crew")}
        embedded: dict[str, Any] = {}
        if "episodes" in embed:
            embedded["episodes"] = copy.deepcopy(show["episodes"])
        if "cast" in embed:
            embedded["cast"] = copy.deepcopy(show["cast"])
        if embedded:
            body["_embedded"] = embedded
        return body

    def _app(self) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            self.requests.append(request.path_qs)
            response: web.StreamResponse = await handler(request)
            return response

        def not_found() -> web.Response:
            return web.json_response({"name": "Not Found", "status": 404}, status=404)

        def show_of(request: web.Request) -> dict[str, Any] | None:
            raw = request.match_info["id"]
            return self.shows.get(int(raw)) if raw.isdigit() else None

        async def search(request: web.Request) -> web.Response:
            words = request.query.get("q", "").casefold().split()
            found = [
                {"score": 0.9, "show": self._public(s, [])}
                for s in self.shows.values()
                if words and all(w in s["name"].casefold() for w in words)
            ]
            return web.json_response(found)

        async def singlesearch(request: web.Request) -> web.Response:
            query = request.query.get("q", "").strip().casefold()
            show = next((s for s in self.shows.values() if s["name"].casefold() == query), None)
            return web.json_response(self._public(show, request.query.getall("embed[]", []))) if show else not_found()

        async def show(request: web.Request) -> web.Response:
            found = show_of(request)
            return web.json_response(self._public(found, request.query.getall("embed[]", []))) if found else not_found()

        async def episodes(request: web.Request) -> web.Response:
            found = show_of(request)
            return web.json_response(found["episodes"]) if found else not_found()

        async def crew(request: web.Request) -> web.Response:
            found = show_of(request)
            return web.json_response(found["crew"]) if found else not_found()

        async def person(request: web.Request) -> web.Response:
            return not_found()  # the cast embeds carry every name

        async def updates(request: web.Request) -> web.Response:
            return web.json_response({str(i): s["updated"] for i, s in self.shows.items()})

        app = web.Application(middlewares=[record])
        app.router.add_get("/search/shows", search)
        app.router.add_get("/singlesearch/shows", singlesearch)
        app.router.add_get("/shows/{id}", show)
        app.router.add_get("/shows/{id}/episodes", episodes)
        app.router.add_get("/shows/{id}/crew", crew)
        app.router.add_get("/people/{id}", person)
        app.router.add_get("/updates/shows", updates)
        return app

    async def start(self) -> TVmazeFixture:
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
