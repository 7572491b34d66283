"""bot.catalog.tvmaze: importing a show from TVmaze into a data pack, against a loopback server.

The server serves fixture JSON in TVmaze's documented shape (tests/unit/fixtures/tvmaze/, invented
ids and names) and can be changed between imports, made to answer 429/503, or to send broken JSON.
Waits (backoff, rate limit) go through a fake sleep that records them, so nothing here waits for real.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import socket
import sys
import tomllib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st

from bot.catalog import load_catalog
from bot.catalog.loader import parse_pack
from bot.catalog.tvmaze import (
    Ambiguous,
    ImportFailure,
    NetworkFailure,
    NoMatch,
    ShowData,
    TVmazeClient,
    UnexpectedData,
    build_pack,
    dump_pack,
    import_tvmaze,
    merge_packs,
    slugify,
    strip_html,
    toml_string,
    update_pack,
)
from bot.ui.catalog import recap_embed

FIXTURES = Path(__file__).parent / "fixtures" / "tvmaze"
QOT = Path(__file__).resolve().parents[2] / "data" / "packs" / "queen-of-tears.toml"
SHOW_ID = 90101
QUERY = "Salt Wind Bakery"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class FakeTVmaze:
    """The state behind the loopback server; tests change it between imports."""

    show: dict[str, Any] = field(default_factory=lambda: fixture("show.json"))
    crew: list[Any] = field(default_factory=lambda: fixture("crew.json"))
    search: list[Any] = field(default_factory=lambda: fixture("search.json"))
    # Answers given before the normal one, first to last: (status, headers, body).
    queued: deque[tuple[int, dict[str, str], str]] = field(default_factory=deque)
    raw_show: str | None = None  # a body to send instead of the show's JSON
    people: dict[int, dict[str, Any]] = field(default_factory=dict)  # /people/{id}
    requests: list[tuple[str, list[tuple[str, str]], str]] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def episodes(self) -> list[dict[str, Any]]:
        return self.show["_embedded"]["episodes"]

    def episode(self, number: int) -> dict[str, Any]:
        return next(e for e in self.episodes() if e["number"] == number)

    def paths(self) -> list[str]:
        return [path for path, _query, _agent in self.requests]


def make_app(state: FakeTVmaze) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        state.requests.append((request.path, list(request.query.items()), request.headers.get("User-Agent", "")))
        if state.queued:
            status, headers, body = state.queued.popleft()
            return web.Response(status=status, headers=headers, text=body)
        return await handler(request)

    async def singlesearch(request: web.Request) -> web.Response:
        if request.query.get("q", "").strip().casefold() != state.show["name"].casefold():
            return web.json_response({"name": "Not Found", "status": 404}, status=404)
        if state.raw_show is not None:
            return web.Response(text=state.raw_show, content_type="application/json")
        return web.json_response(state.show)

    async def search(request: web.Request) -> web.Response:
        return web.json_response(state.search)

    async def show(request: web.Request) -> web.Response:
        if int(request.match_info["id"]) != state.show["id"]:
            return web.json_response({"name": "Not Found", "status": 404}, status=404)
        return web.json_response(state.show)

    async def crew(request: web.Request) -> web.Response:
        if int(request.match_info["id"]) != state.show["id"]:
            return web.json_response({"name": "Not Found", "status": 404}, status=404)
        return web.json_response(state.crew)

    async def person(request: web.Request) -> web.Response:
        found = state.people.get(int(request.match_info["id"]))
        return web.json_response(found) if found else web.json_response({"status": 404}, status=404)

    app = web.Application(middlewares=[record])
    app.router.add_get("/people/{id}", person)
    app.router.add_get("/singlesearch/shows", singlesearch)
    app.router.add_get("/search/shows", search)
    app.router.add_get("/shows/{id}", show)
    app.router.add_get("/shows/{id}/crew", crew)
    return app


@pytest.fixture
async def tvmaze() -> AsyncIterator[FakeTVmaze]:
    state = FakeTVmaze()
    server = TestServer(make_app(state), host="127.0.0.1")
    await server.start_server()
    state.port = server.port
    try:
        yield state
    finally:
        await server.close()


class Waits:
    """A fake sleep: records each delay and advances a fake clock instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 0.0

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay
        await asyncio.sleep(0)

    def clock(self) -> float:
        return self.now


async def run_import(state: FakeTVmaze, out: Path, waits: Waits | None = None, **options: Any) -> Any:
    return await import_tvmaze(QUERY, out, api_base=state.base, sleep=waits or Waits(), **options)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def load_pack(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


# -- a fresh import ----------------------------------------------------------------------------------------------
async def test_a_fresh_import_writes_a_pack_that_validates(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    out = tmp_path / "packs"
    result = await run_import(tvmaze, out)
    assert result.created and result.written
    assert result.path == out / "salt-wind-bakery.toml"
    assert result.changes == [
        "new pack: 8 episode(s) (2025-03-01 – 2025-03-23), 6 character(s), 7 people, 7 cast entries"
    ]
    assert result.notes == ["1 special(s) left out of the episode numbering"]
    # singlesearch with both embeds, then the crew; a User-Agent that says who is asking.
    assert tvmaze.paths() == ["/singlesearch/shows", f"/shows/{SHOW_ID}/crew"]
    _path, query, agent = tvmaze.requests[0]
    assert query == [("q", QUERY), ("embed[]", "episodes"), ("embed[]", "cast")]
    assert agent.startswith("Dramawatch/") and "catalog importer" in agent

    catalog, problems = load_catalog([out])
    assert problems == []
    drama = catalog.dramas["salt-wind-bakery"]
    assert (drama.title, drama.year, drama.timezone, drama.network, drama.streamers) == (
        "Salt Wind Bakery",
        2025,
        "Asia/Seoul",
        "KBC2",
        ("Streamflix",),
    )
    assert (drama.air_time, drama.schedule, drama.runtime_minutes) == ("21:00", "Saturdays and Sundays", 70)
    assert drama.writers == ("Jung Ye-rin",)  # the "Creator" credit is not a writing credit
    assert drama.directors == ("Moon Tae-gyu", "Ahn Sol")
    assert drama.external_ids == {"tvmaze": SHOW_ID, "imdb": "tt9990001", "thetvdb": 999001}
    source = drama.sources["tvmaze"]
    assert (source.licence, source.url, source.attribution) == (
        "CC BY-SA 4.0",
        "https://www.tvmaze.com/shows/90101/salt-wind-bakery",
        "Summary from TVmaze (CC BY-SA 4.0)",
    )


async def test_air_times_come_from_airstamp_and_specials_are_not_numbered(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    await run_import(tvmaze, tmp_path)
    drama = load_catalog([tmp_path])[0].dramas["salt-wind-bakery"]
    assert drama.episode_count == 8 and [e.number for e in drama.episodes] == list(range(1, 9))
    # The loader reproduces TVmaze's UTC airstamp for every regular episode, in order.
    regular = [e for e in tvmaze.episodes() if e["type"] == "regular"]
    assert [e.air_at for e in drama.episodes] == [datetime.fromisoformat(e["airstamp"]) for e in regular]
    assert drama.episode(8).air_at == datetime(2025, 3, 23, 12, 40, tzinfo=UTC)  # its own 21:40 slot
    assert not any(e.is_release for e in drama.episodes)
    # The special (2025-03-14, between 4 and 5) is not an episode: 5 is the next regular one.
    assert drama.episode(5).air_at == datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
    pack = load_pack(tmp_path / "salt-wind-bakery.toml")
    assert [e.get("air_time") for e in pack["episodes"]] == [None] * 7 + ["21:40"]  # others inherit 21:00
    assert (drama.episode(1).title, drama.episode(3).title) == ("", "The Flour Storm")  # "Episode 1" is no title


async def test_tvmaze_summaries_are_kept_apart_stripped_and_credited(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    await run_import(tvmaze, tmp_path)
    drama = load_catalog([tmp_path])[0].dramas["salt-wind-bakery"]
    first = drama.episode(1)
    assert first.synopsis == "" and first.source == ""  # never mixed into our own synopsis
    assert first.tvmaze_summary == "Da-eun returns to her grandmother's seaside bakery & finds it closed."
    assert drama.episode(2).tvmaze_summary == 'A rival baker, Min-jae, makes an offer.\n\nDa-eun says "no".'
    assert drama.episode(8).tvmaze_summary == "Finale: the bakery's last loaf \\ first dawn."
    assert drama.episode(4).tvmaze_summary == "" and drama.episode(6).tvmaze_summary == ""

    hidden = recap_embed(drama, first, plain=False)
    assert hidden.description == "||Da-eun returns to her grandmother's seaside bakery & finds it closed.||"
    assert hidden.footer.text == (
        "Synopsis: Summary from TVmaze (CC BY-SA 4.0) · https://www.tvmaze.com/shows/90101/salt-wind-bakery"
        " · spoilers hidden: click to reveal"
    )
    shown = recap_embed(drama, first, plain=True)
    assert shown.description == first.tvmaze_summary
    none = recap_embed(drama, drama.episode(4), plain=False)
    assert none.description == "No synopsis for this episode yet."
    assert none.footer.text is None  # no text: nobody credited, TVmaze included


async def test_our_synopsis_wins_over_the_tvmaze_summary(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    result = await run_import(tvmaze, tmp_path)
    text = result.path.read_text(encoding="utf-8").replace(
        "number = 1\n", 'number = 1\nsynopsis = "Our words: she comes home."\n', 1
    )
    result.path.write_text(text, encoding="utf-8")
    drama = load_catalog([tmp_path])[0].dramas["salt-wind-bakery"]
    embed = recap_embed(drama, drama.episode(1), plain=False)
    assert embed.description == "||Our words: she comes home.||"
    assert embed.footer.text == "Synopsis: Dramawatch · spoilers hidden: click to reveal"


async def test_people_characters_and_cast(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    await run_import(tvmaze, tmp_path)
    catalog = load_catalog([tmp_path])[0]
    drama = catalog.dramas["salt-wind-bakery"]
    assert list(drama.characters) == ["yoon-da-eun", "kang-min-jae", "chloe-martin", "mr-bread", "granny-oh", "min-su"]
    assert [c.billing for c in drama.characters.values()] == ["main"] * 4 + ["supporting"] * 2
    assert drama.characters["chloe-martin"].name == "Chloé Martin"  # accents kept in names, not slugs
    # "Yoon Da-eun (young)" is the same character played by a second actor.
    assert [(c.person, c.note) for c in drama.actors("yoon-da-eun")] == [("han-seo-yeon", ""), ("lee-ha-na", "young")]
    assert [(c.person, c.note) for c in drama.actors("mr-bread")] == [("baek-ro-hwan", "voice")]
    # Two different people with the same name get distinct slugs; a Hangul-only name gets one from its id.
    assert catalog.people["han-seo-yeon-2"].name == "Han Seo-yeon"
    assert drama.actors("granny-oh")[0].person == "han-seo-yeon-2"
    assert catalog.people["person-70007"].name == "김민수"
    assert catalog.people["zoe-laurent"].name == "Zoé Laurent"


async def test_people_already_in_the_catalog_keep_their_name(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    # Another pack spells the actor "Park Joon-Ho"; packs must agree on a person's name, so the import uses it.
    other = tmp_path / "other.toml"
    other.write_text(
        '[drama]\nslug = "other"\ntitle = "Other"\nyear = 2020\ntimezone = "Asia/Seoul"\nepisode_count = 1\n'
        '[[episodes]]\nnumber = 1\nair_date = "2020-01-01"\n[[people]]\nslug = "park-joon-ho"\nname = "Park Joon-Ho"\n',
        encoding="utf-8",
    )
    await run_import(tvmaze, tmp_path)
    catalog, problems = load_catalog([tmp_path])
    assert problems == []
    assert catalog.people["park-joon-ho"].name == "Park Joon-Ho"
    assert [r.drama.slug for r in catalog.roles("park-joon-ho")] == ["salt-wind-bakery"]


async def test_a_cast_member_embedded_without_a_name_is_asked_for(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    cast = tvmaze.show["_embedded"]["cast"]
    tvmaze.people[70002] = copy.deepcopy(cast[1]["person"])
    cast[1]["person"] = {"id": 70002}
    await run_import(tvmaze, tmp_path)
    assert tvmaze.paths() == ["/singlesearch/shows", f"/shows/{SHOW_ID}/crew", "/people/70002"]
    catalog = load_catalog([tmp_path])[0]
    assert catalog.people["park-joon-ho"].name == "Park Joon-ho"
    assert catalog.dramas["salt-wind-bakery"].actors("kang-min-jae")[0].person == "park-joon-ho"


# -- re-importing ------------------------------------------------------------------------------------------------
HAND_EDITS = [
    # (what a person writes into the imported pack, as text edits)
    ("number = 2\n", 'number = 2\nsynopsis = "Min-jae\'s offer, in our own words."\n'),
    ('name = "Kang Min-jae"\nbilling = "main"\n', 'name = "Kang Min-jae"\nbilling = "supporting"\n'),
    ('name = "Yoon Da-eun"\n', 'name = "Yoon Da-eun"\naliases = ["Daeun"]\ndescription = "A baker, home again."\n'),
    ('title = "Salt Wind Bakery"\n', 'title = "Salt Wind Bakery"\npremise = "A bakery by the sea."\n'),
    (
        "[[characters]]\n",
        '[[characters]]\nslug = "seagull"\nname = "The Seagull"\nbilling = "guest"\n\n[[characters]]\n',
    ),
]


def hand_edit(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = "# Our notes: checked against the broadcaster's listings.\n" + text
    for old, new in HAND_EDITS:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def change_the_fixture(state: FakeTVmaze) -> None:
    """TVmaze moves episode 3 a day earlier and lists a ninth episode."""
    three = state.episode(3)
    three["airdate"], three["airstamp"] = "2025-03-07", "2025-03-07T12:00:00+00:00"
    nine = copy.deepcopy(state.episode(8))
    nine.update(
        id=91009,
        number=9,
        name="Episode 9",
        airdate="2025-03-29",
        airtime="21:00",
        airstamp="2025-03-29T12:00:00+00:00",
        summary="<p>An extra day of baking.</p>",
    )
    state.episodes().append(nine)


async def test_a_re_import_updates_exactly_the_changed_facts_and_keeps_hand_written_text(
    tvmaze: FakeTVmaze, tmp_path: Path
) -> None:
    first = await run_import(tvmaze, tmp_path)
    hand_edit(first.path)
    before = load_pack(first.path)
    change_the_fixture(tvmaze)

    result = await run_import(tvmaze, tmp_path)
    assert not result.created and result.written and result.path == first.path
    assert result.changes == [
        "drama.episode_count: 8 → 9",
        "episode 3: air_date 2025-03-08 → 2025-03-07",
        "episode 9: added (2025-03-29 21:00)",
    ]
    # Exactly those: the pack equals the hand-edited one with the three changes applied.
    expected = copy.deepcopy(before)
    expected["drama"]["episode_count"] = 9
    expected["episodes"][2]["air_date"] = "2025-03-07"
    expected["episodes"].append({"number": 9, "air_date": "2025-03-29", "tvmaze_summary": "An extra day of baking."})
    after = load_pack(first.path)
    assert after == expected
    assert after["episodes"][1]["synopsis"] == "Min-jae's offer, in our own words."
    text = first.path.read_text(encoding="utf-8")
    assert text.startswith("# Our notes: checked against the broadcaster's listings.\n")

    catalog, problems = load_catalog([tmp_path])
    assert problems == []
    drama = catalog.dramas["salt-wind-bakery"]
    assert drama.episode(3).air_at == datetime(2025, 3, 7, 12, 0, tzinfo=UTC)
    assert drama.episode(9).air_at == datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
    assert drama.characters["kang-min-jae"].billing == "supporting"

    # Importing again changes nothing and leaves the file alone.
    again = await run_import(tvmaze, tmp_path)
    assert again.changes == [] and not again.written
    assert first.path.read_text(encoding="utf-8") == text


COMMENTS = [
    # (where a person adds a comment to the imported pack, as text edits); each comment must survive
    ("# Salt Wind Bakery: imported", "# Kept by the server's mods; ask in #packs.\n# Salt Wind Bakery: imported"),
    ("[drama]\n", "# Checked against KBC2's listings, 2025-03-05.\n\n[drama]\n"),
    ('title = "Salt Wind Bakery"\n', 'title = "Salt Wind Bakery"  # the English title KBC2 uses\n'),
    ('air_date = "2025-03-08"\n', 'air_date = "2025-03-08"  # KBC2 moved it once already\n'),
    ("\n[[episodes]]\nnumber = 4\n", "\n# 3 and 4 are a two-parter.\n[[episodes]]\nnumber = 4\n"),
    ('first dawn."\n', 'first dawn."\n# The finale ran long: 21:40 is right.\n'),
]


def changed_lines(diff: str) -> tuple[list[str], list[str]]:
    lines = [line for line in diff.splitlines() if not line.startswith(("---", "+++"))]
    return [line[1:] for line in lines if line.startswith("-")], [line[1:] for line in lines if line.startswith("+")]


async def test_a_re_import_keeps_the_comments_and_layout_of_a_hand_edited_pack(
    tvmaze: FakeTVmaze, tmp_path: Path
) -> None:
    first = await run_import(tvmaze, tmp_path)
    text = first.path.read_text(encoding="utf-8")
    for old, new in COMMENTS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    first.path.write_text(text, encoding="utf-8")
    change_the_fixture(tvmaze)  # episode 3 a day earlier; a ninth episode

    result = await run_import(tvmaze, tmp_path)
    assert result.changes == [
        "drama.episode_count: 8 → 9",
        "episode 3: air_date 2025-03-08 → 2025-03-07",
        "episode 9: added (2025-03-29 21:00)",
    ]
    after = first.path.read_text(encoding="utf-8")
    for _old, new in COMMENTS:
        comment = new[new.index("#") :].partition("\n")[0]
        assert after.count(comment) == 1, comment
    # Only the changed lines changed: the moved date keeps its inline comment, and episode 9 comes
    # after episode 8 (with the comment under it), before the ruled line that opens the people.
    assert changed_lines(result.diff) == (
        ["episode_count = 8", 'air_date = "2025-03-08"  # KBC2 moved it once already'],
        [
            "episode_count = 9",
            'air_date = "2025-03-07"  # KBC2 moved it once already',
            "",
            "[[episodes]]",
            "number = 9",
            'air_date = "2025-03-29"',
            'tvmaze_summary = "An extra day of baking."',
        ],
    )
    assert after.startswith("# Kept by the server's mods; ask in #packs.\n# Salt Wind Bakery: imported")
    assert "# The finale ran long: 21:40 is right.\n\n[[episodes]]\nnumber = 9\n" in after
    assert after.index("number = 9\n") < after.index(f"# {'-' * 64} people")

    catalog, problems = load_catalog([tmp_path])
    assert problems == []
    drama = catalog.dramas["salt-wind-bakery"]
    assert drama.episode_count == 9
    assert drama.episode(3).air_at == datetime(2025, 3, 7, 12, 0, tzinfo=UTC)
    assert drama.episode(9).air_at == datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
    again = await run_import(tvmaze, tmp_path)
    assert again.changes == [] and again.diff == ""


async def test_a_dry_run_shows_the_diff_and_writes_nothing(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    first = await run_import(tvmaze, tmp_path)
    text = first.path.read_text(encoding="utf-8")
    change_the_fixture(tvmaze)
    result = await run_import(tvmaze, tmp_path, dry_run=True)
    assert not result.written
    assert "episode 3: air_date 2025-03-08 → 2025-03-07" in result.changes
    assert '-air_date = "2025-03-08"\n' in result.diff and '+air_date = "2025-03-07"\n' in result.diff
    assert "+number = 9\n" in result.diff
    assert first.path.read_text(encoding="utf-8") == text
    # A dry run of a first import creates nothing either, not even the folder.
    fresh = await run_import(tvmaze, tmp_path / "new", dry_run=True)
    assert fresh.created and not fresh.written and not (tmp_path / "new").exists()


async def test_new_cast_is_added_and_times_and_summaries_are_updated(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    await run_import(tvmaze, tmp_path)
    cast = tvmaze.show["_embedded"]["cast"]
    newcomer = copy.deepcopy(cast[1])
    newcomer["person"].update(id=70008, name="Ryu Eun-bi")
    newcomer["character"].update(id=80008, name="Inspector Ryu")
    cast.append(newcomer)
    seven = tvmaze.episode(7)
    seven["airtime"], seven["airstamp"] = "22:00", "2025-03-22T13:00:00+00:00"
    seven["summary"] = "<p>The festival, at night.</p>"
    tvmaze.episode(4)["summary"] = "<p>Flour everywhere.</p>"
    result = await run_import(tvmaze, tmp_path)
    assert result.changes == [
        "episode 4: TVmaze summary added",
        "episode 7: air_time 21:00 → 22:00",
        "episode 7: TVmaze summary updated",
        "person ryu-eun-bi (Ryu Eun-bi): added",
        "character inspector-ryu (Inspector Ryu): added",
        "cast: Ryu Eun-bi as Inspector Ryu: added",
    ]
    drama = load_catalog([tmp_path])[0].dramas["salt-wind-bakery"]
    assert drama.episode(7).air_at == datetime(2025, 3, 22, 13, 0, tzinfo=UTC)
    assert drama.characters["inspector-ryu"].billing == "supporting"


async def test_a_re_import_finds_the_pack_by_its_tvmaze_id(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    first = await run_import(tvmaze, tmp_path, slug="bakery")
    assert first.path == tmp_path / "bakery.toml"
    again = await run_import(tvmaze, tmp_path)  # no --slug: the pack holding TVmaze id 90101
    assert again.path == first.path and again.changes == []
    with pytest.raises(ImportFailure, match="already holds TVmaze show 90101 as 'bakery'"):
        await run_import(tvmaze, tmp_path, slug="other-name")
    with pytest.raises(ImportFailure, match="is not a slug"):
        await run_import(tvmaze, tmp_path, slug="Not A Slug")


# -- a polite client ---------------------------------------------------------------------------------------------
async def test_429_is_retried_after_the_servers_retry_after_then_backoff(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    tvmaze.queued += [(429, {"Retry-After": "3"}, ""), (429, {}, ""), (503, {}, "")]
    waits = Waits()
    result = await run_import(tvmaze, tmp_path, waits)
    assert result.written
    # Retry-After honoured, then exponential backoff (1 s doubling) for the answers without it.
    assert waits.delays == [3.0, 2.0, 4.0]
    assert tvmaze.paths() == ["/singlesearch/shows"] * 4 + [f"/shows/{SHOW_ID}/crew"]


async def test_retry_after_is_capped_and_giving_up_is_a_clear_error(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    tvmaze.queued += [(429, {"Retry-After": "3600"}, "")] + [(502, {}, "")] * 4
    waits = Waits()
    with pytest.raises(ImportFailure, match=r"kept answering HTTP 502 to /singlesearch/shows \(5 attempts\)"):
        await run_import(tvmaze, tmp_path, waits)
    assert waits.delays == [60.0, 2.0, 4.0, 8.0]
    assert names(tmp_path) == []


async def test_at_most_20_requests_in_any_10_seconds(tvmaze: FakeTVmaze) -> None:
    waits = Waits()
    started: list[float] = []
    async with TVmazeClient(tvmaze.base, sleep=waits, clock=waits.clock) as client:
        for _ in range(45):
            await client.get(f"/shows/{SHOW_ID}/crew")
            started.append(waits.now)
    assert len(tvmaze.requests) == 45
    assert waits.delays == [10.0, 10.0]  # requests 21 and 41 wait for the window to move on
    for t in started:
        assert sum(1 for s in started if t <= s < t + 10) <= 20


async def test_no_match_lists_tvmazes_closest_search_results(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    with pytest.raises(NoMatch) as caught:
        await import_tvmaze("Salt Wnd Bakry", tmp_path, api_base=tvmaze.base, sleep=Waits())
    assert caught.value.suggestions == [
        "Salt Wind Bakery (2025)",
        "Salt and Honey (2019)",
        "Windward Bakehouse",
        "Bakery on the Hill (2021)",
        "The Salt Road (2016)",
    ]
    assert str(caught.value).startswith("no TVmaze show matches 'Salt Wnd Bakry'. Closest search results: ")
    assert tvmaze.paths() == ["/singlesearch/shows", "/search/shows"]
    assert names(tmp_path) == []
    tvmaze.search = []
    with pytest.raises(NoMatch, match="TVmaze's search found nothing close"):
        await import_tvmaze("zzz", tmp_path, api_base=tvmaze.base, sleep=Waits())


async def test_malformed_json_is_a_clear_error_and_writes_nothing(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    tvmaze.raw_show = '{"id": 90101, "name": "Salt Wind'
    with pytest.raises(UnexpectedData, match=r"/singlesearch/shows: the answer is not valid JSON"):
        await run_import(tvmaze, tmp_path)
    assert names(tmp_path) == []
    # Nor does it touch a pack already there.
    tvmaze.raw_show = None
    first = await run_import(tvmaze, tmp_path)
    text = first.path.read_text(encoding="utf-8")
    tvmaze.raw_show = "<html>Service temporarily unavailable</html>"
    with pytest.raises(UnexpectedData, match="not valid JSON"):
        await run_import(tvmaze, tmp_path)
    assert first.path.read_text(encoding="utf-8") == text
    assert names(tmp_path) == ["salt-wind-bakery.toml"]


@pytest.mark.parametrize(
    ("breakage", "field"),
    [
        (lambda show: show["_embedded"]["episodes"][2].update(airdate=20250308), "show._embedded.episodes[2].airdate"),
        (lambda show: show["_embedded"]["episodes"][0].update(airstamp="soon"), "show._embedded.episodes[0].airstamp"),
        (lambda show: show["_embedded"].pop("episodes"), "show._embedded.episodes: is missing"),
        (lambda show: show["_embedded"]["cast"][1].update(character=None), "show._embedded.cast[1].character"),
        (lambda show: show.update(id="90101"), "show.id: expected a whole number"),
    ],
)
async def test_json_in_an_unexpected_shape_names_the_field(
    tvmaze: FakeTVmaze, tmp_path: Path, breakage: Any, field: str
) -> None:
    breakage(tvmaze.show)
    with pytest.raises(UnexpectedData) as caught:
        await run_import(tvmaze, tmp_path)
    assert str(caught.value).startswith("TVmaze's answer is not in the expected shape: ")
    assert field in str(caught.value)
    assert names(tmp_path) == []


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_network_failure_names_the_host_after_retrying(tmp_path: Path) -> None:
    port = closed_port()
    waits = Waits()
    with pytest.raises(NetworkFailure) as caught:
        await import_tvmaze(QUERY, tmp_path, api_base=f"http://127.0.0.1:{port}", sleep=waits)
    assert str(caught.value) == (
        f"cannot reach 127.0.0.1:{port}: cannot connect (Connection refused) "
        "(3 attempts, requesting /singlesearch/shows)"
    )
    assert waits.delays == [1.0, 2.0]  # a refused connection is retried twice, not four times
    assert names(tmp_path) == []


async def test_a_request_that_never_answers_times_out() -> None:
    release = asyncio.Event()
    hits: list[int] = []

    async def stuck(request: web.Request) -> web.Response:
        hits.append(1)
        await release.wait()
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/shows/1/crew", stuck)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    waits = Waits()
    try:
        async with TVmazeClient(f"http://127.0.0.1:{server.port}", timeout=0.2, retries=1, sleep=waits) as client:
            with pytest.raises(NetworkFailure, match=r"no answer within 0\.2 s \(2 attempts"):
                await client.get("/shows/1/crew")
    finally:
        release.set()
        await server.close()
    assert len(hits) == 2 and waits.delays == [1.0]


async def test_an_output_folder_that_is_a_file_is_refused_before_asking_tvmaze(
    tvmaze: FakeTVmaze, tmp_path: Path
) -> None:
    blocker = tmp_path / "packs"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ImportFailure, match="is a file, not a folder"):
        await run_import(tvmaze, blocker)
    assert tvmaze.requests == []


# -- mapping, merging and writing (pure) ------------------------------------------------------------------------
def test_slugs_are_ascii_lowercase_with_accents_transliterated() -> None:
    assert slugify("Zoé Laurent") == "zoe-laurent"
    assert slugify("Yoon Da-eun (young)") == "yoon-da-eun-young"
    assert slugify("Mr. Bread's  Oven!") == "mr-breads-oven"
    assert slugify("김민수") == ""


def test_html_is_stripped_and_long_summaries_are_cut_at_a_word() -> None:
    assert strip_html("<p>One &amp; <b>two</b>.</p>\n<p>Three<br>four</p>") == "One & two.\n\nThree\n\nfour"
    long = strip_html("<p>" + "word " * 400 + "</p>")
    assert len(long) <= 1500 and long.endswith("word…")


def web_release(show: dict[str, Any]) -> dict[str, Any]:
    show = copy.deepcopy(show)
    show["network"] = None
    show["webChannel"] = {"id": 6002, "name": "Streamflix", "country": None}
    for episode in show["_embedded"]["episodes"]:
        episode["airtime"] = ""
        episode["airstamp"] = episode["airdate"] + "T00:00:00+00:00"
    return show


def test_a_web_release_has_dates_but_no_time_slot() -> None:
    built = build_pack(ShowData(web_release(fixture("show.json")), []))
    drama = built.pack["drama"]
    assert drama["timezone"] == "Asia/Seoul"  # no country: the Korean language decides
    assert "air_time" not in drama and "network" not in drama and drama["streamers"] == ["Streamflix"]
    assert [e["air_date"] for e in built.pack["episodes"]][:2] == ["2025-03-01", "2025-03-02"]
    assert all("air_time" not in e for e in built.pack["episodes"])
    parsed, _people, problems = parse_pack(tomllib.loads(dump_pack(built.pack)), "web.toml")
    assert problems == [] and parsed is not None
    assert parsed.episode(1).is_release
    assert parsed.episode(1).air_at == datetime(2025, 2, 28, 15, 0, tzinfo=UTC)  # 00:00 in Seoul
    english = web_release(fixture("show.json"))
    english["language"] = "English"
    assert build_pack(ShowData(english, [])).pack["drama"]["timezone"] == "UTC"


def test_specials_stay_out_of_the_numbering_even_with_a_number() -> None:
    show = fixture("show.json")
    episodes = show["_embedded"]["episodes"]
    episodes[1].update(type="insignificant_special")  # TVmaze's episode 2 reclassified as a special
    built = build_pack(ShowData(show, []))
    assert built.pack["drama"]["episode_count"] == 7
    assert [e["air_date"] for e in built.pack["episodes"][:2]] == ["2025-03-01", "2025-03-08"]
    assert built.notes == ["2 special(s) left out of the episode numbering"]


def test_local_dates_and_times_come_from_airstamp_in_the_packs_zone() -> None:
    # A pack kept in another zone (edited by hand): airstamp converted there, not airdate/airtime copied.
    built = build_pack(ShowData(fixture("show.json"), []), timezone="America/New_York")
    episodes = built.pack["episodes"]
    assert (episodes[0]["air_date"], episodes[0]["air_time"]) == ("2025-03-01", "07:00")  # 12:00 UTC, EST
    assert (episodes[7]["air_date"], episodes[7]["air_time"]) == ("2025-03-23", "08:40")  # 12:40 UTC, EDT
    parsed, _people, problems = parse_pack(tomllib.loads(dump_pack(built.pack)), "ny.toml")
    assert problems == [] and parsed is not None
    assert parsed.episode(8).air_at == datetime(2025, 3, 23, 12, 40, tzinfo=UTC)


def test_undated_episodes_at_the_end_are_left_out_of_the_numbering() -> None:
    show = fixture("show.json")
    for episode in show["_embedded"]["episodes"][-2:]:
        episode.update(airdate="", airtime="", airstamp=None)
    built = build_pack(ShowData(show, []))
    assert built.pack["drama"]["episode_count"] == 6
    assert "2 episode(s) without an air date yet left out (from episode 7)" in built.notes


def test_an_existing_drama_air_time_gives_way_to_a_release() -> None:
    existing = build_pack(ShowData(fixture("show.json"), [])).pack
    existing["drama"]["air_time"] = "21:00"
    for episode in existing["episodes"]:
        episode.pop("air_time", None) if episode.get("air_time") == "21:00" else None
    fresh = build_pack(ShowData(web_release(fixture("show.json")), []), timezone="Asia/Seoul").pack
    merged, changes = merge_packs(existing, fresh)
    assert changes[0] == "drama.air_time: 21:00 removed (now given per episode; some episodes are releases)"
    assert "air_time" not in merged["drama"] and all("air_time" not in e for e in merged["episodes"])
    assert "episode 1: air_time 21:00 → (release)" in changes
    _drama, _people, problems = parse_pack(tomllib.loads(dump_pack(merged)), "x.toml")
    assert problems == []


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_toml_strings_round_trip(text: str) -> None:
    assert tomllib.loads(f"k = {toml_string(text)}")["k"] == text


def test_a_hand_written_pack_round_trips_through_the_writer() -> None:
    data = tomllib.loads(QOT.read_text(encoding="utf-8"))
    assert tomllib.loads(dump_pack(data)) == data


STARTER = """\
# A starter pack, written by hand.

[drama]
slug = "salt-wind-bakery"
title = "Salt Wind Bakery"
year = 2025
timezone = "Asia/Seoul"
air_time = "21:00"  # KBC2's slot
episode_count = 2

[[sources]]
id = "dramawatch"
name = "Dramawatch researched facts"
licence = "Project's own text (MIT)"

# ---- episodes

[[episodes]]
number = 1
air_date = "2025-03-01"
synopsis = "Ours."
# no title yet
"""


def test_a_pack_is_edited_in_place_keys_next_to_their_neighbours_tables_at_the_end() -> None:
    before = tomllib.loads(STARTER)
    pack = copy.deepcopy(before)
    drama = pack["drama"]
    drama["network"] = "KBC2"
    del drama["air_time"]
    drama["external_ids"] = {"tvmaze": SHOW_ID}
    pack["sources"].append({"id": "tvmaze", "name": "TVmaze", "licence": "CC BY-SA 4.0"})
    pack["episodes"][0].update(title="Homecoming", air_time="21:00")
    pack["episodes"].append({"number": 2, "air_date": "2025-03-02"})
    assert update_pack(STARTER, pack) == (
        STARTER.replace('title = "Salt Wind Bakery"\n', 'title = "Salt Wind Bakery"\nnetwork = "KBC2"\n')
        .replace('air_time = "21:00"  # KBC2\'s slot\n', "")
        .replace("episode_count = 2\n", "episode_count = 2\n\n[drama.external_ids]\ntvmaze = 90101\n")
        .replace(
            '(MIT)"\n',
            '(MIT)"\n\n[[sources]]\nid = "tvmaze"\nname = "TVmaze"\nlicence = "CC BY-SA 4.0"\n',
        )
        .replace("number = 1\n", 'number = 1\ntitle = "Homecoming"\n')
        .replace('"2025-03-01"\n', '"2025-03-01"\nair_time = "21:00"\n')
        + '\n[[episodes]]\nnumber = 2\nair_date = "2025-03-02"\n'
    )
    assert update_pack(STARTER, before) == STARTER  # nothing to change: not a character changes


def test_the_loader_checks_tvmaze_summary_length_and_credit(tmp_path: Path) -> None:
    built = build_pack(ShowData(fixture("show.json"), [])).pack
    built["episodes"][0]["tvmaze_summary"] = "x" * 1501
    _drama, _people, problems = parse_pack(tomllib.loads(dump_pack(built)), "p.toml")
    assert problems == ["p.toml: episodes[1].tvmaze_summary: is 1501 characters; at most 1500"]
    built["episodes"][0]["tvmaze_summary"] = "Fine."
    built["sources"] = []
    _drama, _people, problems = parse_pack(tomllib.loads(dump_pack(built)), "p.toml")
    assert problems == [
        f"p.toml: episodes[{n}].tvmaze_summary: needs a [[sources]] entry with id 'tvmaze' for its credit "
        "(CC BY-SA 4.0)"
        for n in (1, 2, 3, 5, 7, 8)
    ]


# -- the command line, end to end -------------------------------------------------------------------------------
SETTINGS_VARIABLES = ("DISCORD_TOKEN", "DATABASE_PATH", "DEV_GUILD_ID", "LOG_LEVEL", "CATALOG_PATH")


async def cli(cwd: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_import_then_validate(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    out = tmp_path / "packs"
    code, stdout, stderr = await cli(
        tmp_path, "catalog", "import", "tvmaze", QUERY, "--api-base", tvmaze.base, "--out", str(out)
    )
    assert (code, stderr) == (0, "")
    assert stdout.startswith(f"Created {out / 'salt-wind-bakery.toml'} from TVmaze show 90101 (Salt Wind Bakery)")
    assert "CC BY-SA 4.0" in stdout
    code, stdout, stderr = await cli(tmp_path, "catalog", "validate", str(out))
    assert code == 0, stdout + stderr
    assert stdout == f"{out}: OK — 1 drama(s), 8 episodes, 6 characters, 7 people.\n"


async def test_cli_no_match_is_one_line_and_exit_1(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    code, stdout, stderr = await cli(
        tmp_path, "catalog", "import", "tvmaze", "Salt Wnd", "--api-base", tvmaze.base, "--out", str(tmp_path)
    )
    assert code == 1 and stdout == ""
    assert "Traceback" not in stderr
    assert stderr.splitlines() == [
        "dramawatch: error: no TVmaze show matches 'Salt Wnd'. Closest search results: Salt Wind Bakery (2025); "
        "Salt and Honey (2019); Windward Bakehouse; Bakery on the Hill (2021); The Salt Road (2016)"
    ]


async def test_a_best_match_with_another_title_is_never_imported_silently(tvmaze: FakeTVmaze, tmp_path: Path) -> None:
    # TVmaze's singlesearch answers with its best guess even for another title.
    tvmaze.queued.append((200, {"Content-Type": "application/json"}, json.dumps(tvmaze.show)))
    with pytest.raises(Ambiguous) as caught:
        await import_tvmaze("Salt Wind", tmp_path, api_base=tvmaze.base, sleep=Waits())
    assert caught.value.best == "Salt Wind Bakery"
    assert caught.value.choices[:2] == ["Salt Wind Bakery (2025, id 90101)", "Salt and Honey (2019, id 90102)"]
    assert "--id" in str(caught.value) and names(tmp_path) == []
    chosen = await import_tvmaze("", tmp_path, api_base=tvmaze.base, sleep=Waits(), show_id=SHOW_ID)
    assert chosen.written and chosen.path == tmp_path / "salt-wind-bakery.toml"
