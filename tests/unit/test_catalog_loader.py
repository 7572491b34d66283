"""bot.catalog.loader: the good packs load; every rule in docs/data-packs.md is reported as `FILE: field: what`."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalog import CatalogError, load_catalog, load_catalog_or_raise
from bot.catalog.loader import parse_pack
from tests.unit.packs import GOOD, LANTERNS, MOONLIT, edited, load_good, long_pack, write


def problems_of(folder: Path, text: str, name: str = "pack.toml") -> tuple[Path, list[str]]:
    path = write(folder, name, text)
    catalog, problems = load_catalog([path])
    assert len(catalog) == 0 if problems else len(catalog) == 1
    return path, problems


# -- the good packs ------------------------------------------------------------------------------------------
def test_good_packs_load_without_problems() -> None:
    catalog, problems = load_catalog([GOOD])
    assert problems == []
    assert list(catalog.dramas) == ["moonlit-orchard", "paper-lanterns"]
    moonlit = catalog.dramas["moonlit-orchard"]
    assert moonlit.file == str(MOONLIT)
    assert moonlit.title_ko == "달빛 과수원"
    assert moonlit.aliases == ("Orchard Moon",)
    assert [e.number for e in moonlit.episodes] == [1, 2, 3, 4]
    assert moonlit.episode(2).title == "The First Harvest"
    assert moonlit.episode(5) is None and moonlit.episode(0) is None
    assert set(catalog.dramas["paper-lanterns"].sources) == {"dramawatch", "tvmaze"}
    load_catalog_or_raise([GOOD])  # and the raising variant accepts them too


def test_a_single_file_loads_on_its_own() -> None:
    catalog, problems = load_catalog([LANTERNS])
    assert problems == []
    assert list(catalog.dramas) == ["paper-lanterns"]


def test_broadcast_air_times_are_converted_to_utc() -> None:
    moonlit = load_good().dramas["moonlit-orchard"]
    # 21:00 KST (UTC+9) on 2024-03-09 is 12:00 UTC the same day.
    assert moonlit.episode(1).air_at == datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
    assert moonlit.episode(1).air_at.utcoffset().total_seconds() == 0
    assert moonlit.episode(2).air_at == datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    # An episode's own air_time overrides drama.air_time: 22:30 KST is 13:30 UTC.
    assert moonlit.episode(3).air_at == datetime(2024, 3, 16, 13, 30, tzinfo=UTC)
    # A TOML date (not a string) is accepted too.
    assert moonlit.episode(4).air_at == datetime(2024, 3, 17, 12, 0, tzinfo=UTC)
    assert not any(e.is_release for e in moonlit.episodes)
    assert moonlit.air_time == "21:00"


def test_releases_count_from_local_midnight() -> None:
    lanterns = load_good().dramas["paper-lanterns"]
    assert all(e.is_release for e in lanterns.episodes)
    assert lanterns.air_time == ""
    # 2023-11-03 00:00 in Seoul is 2023-11-02 15:00 UTC.
    assert lanterns.episode(1).air_at == datetime(2023, 11, 2, 15, 0, tzinfo=UTC)
    assert lanterns.episode(2).air_at == lanterns.episode(1).air_at
    assert lanterns.episode(3).air_at == datetime(2023, 11, 9, 15, 0, tzinfo=UTC)
    assert not lanterns.episode(1).aired(datetime(2023, 11, 2, 14, 59, tzinfo=UTC))
    assert lanterns.episode(1).aired(datetime(2023, 11, 2, 15, 0, tzinfo=UTC))


def test_a_streaming_drama_with_release_times_is_a_timed_release(tmp_path: Path) -> None:
    text = edited(LANTERNS, 'timezone = "Asia/Seoul"', 'timezone = "Asia/Seoul"\nreleases = true\nair_time = "16:00"')
    catalog, problems = load_catalog([write(tmp_path, "paper-lanterns.toml", text)])
    assert problems == []
    first = catalog.dramas["paper-lanterns"].episode(1)
    assert first.is_release and first.time_known
    assert first.air_at == datetime(2023, 11, 3, 7, 0, tzinfo=UTC)  # 16:00 in Seoul, not local midnight
    untimed = load_good().dramas["paper-lanterns"].episode(1)
    assert untimed.is_release and not untimed.time_known
    broadcast = load_good().dramas["moonlit-orchard"].episode(1)
    assert not broadcast.is_release and broadcast.time_known


def test_releases_must_be_true_or_false(tmp_path: Path) -> None:
    _, problems = problems_of(
        tmp_path, edited(LANTERNS, 'timezone = "Asia/Seoul"', 'timezone = "Asia/Seoul"\nreleases = "yes"')
    )
    assert any("drama.releases: must be true or false" in p for p in problems), problems


def test_characters_relations_facts_and_cast() -> None:
    moonlit = load_good().dramas["moonlit-orchard"]
    hae_rim = moonlit.characters["kang-hae-rim"]
    assert (hae_rim.name, hae_rim.name_ko, hae_rim.aliases, hae_rim.drama) == (
        "Kang Hae-rim",
        "강해림",
        ("Rimi",),
        "moonlit-orchard",
    )
    assert [(r.to, r.episode) for r in hae_rim.relations] == [("seo-jun-hyeok", None), ("yoon-gwang-il", 3)]
    assert [f.episode for f in hae_rim.facts] == [1, 2, 4]  # sorted, though listed 4, 1, 2
    assert [(c.person, c.note) for c in moonlit.actors("kang-hae-rim")] == [
        ("lee-seo-ah", "young"),
        ("han-ji-hyeon", "older"),
    ]


def test_a_person_has_roles_across_packs() -> None:
    catalog = load_good()
    roles = catalog.roles("oh-tae-sung")
    # Sorted by year: Paper Lanterns (2023) before Moonlit Orchard (2024).
    assert [(r.drama.slug, r.character.slug) for r in roles] == [
        ("paper-lanterns", "do-hyeon-seok"),
        ("moonlit-orchard", "yoon-gwang-il"),
    ]
    # The person is one entry; the pack that gives a Korean name wins over the one that does not.
    assert catalog.people["oh-tae-sung"].name == "Oh Tae-sung"
    assert catalog.people["oh-tae-sung"].name_ko == "오태성"
    assert [r.note for r in catalog.roles("han-ji-hyeon")] == ["older"]
    assert catalog.roles("nobody") == []


# -- one test per rule ---------------------------------------------------------------------------------------
def test_unknown_key_is_a_typo(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'network = "JTBC"', 'netwrok = "JTBC"'))
    assert problems == [f"{path}: drama.netwrok: is not a known field (a typo?)"]


def test_unknown_key_in_a_nested_table(tmp_path: Path) -> None:
    text = edited(
        MOONLIT, '{ episode = 2, text = "She lost the deed." }', '{ episode = 2, txt = "She lost the deed." }'
    )
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}: characters[kang-hae-rim].facts[2].text: is required",
        f"{path}: characters[kang-hae-rim].facts[2].txt: is not a known field (a typo?)",
    ]


def test_a_section_of_the_wrong_shape(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, 'cast = "everyone"\n' + long_pack("tiny", 1))
    assert problems == [f"{path}: cast: must be a list of tables"]


def test_unknown_section(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, MOONLIT.read_text(encoding="utf-8") + "\n[extras]\nmood = 1\n")
    assert problems == [f"{path}: extras: is not a known section (a typo?)"]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("year = 2024\n", "drama.year"),
        ('title = "Moonlit Orchard"\n', "drama.title"),
        ('timezone = "Asia/Seoul"\n', "drama.timezone"),
        ("episode_count = 4\n", "drama.episode_count"),
    ],
)
def test_missing_required_field(tmp_path: Path, line: str, field: str) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, line, ""))
    assert problems == [f"{path}: {field}: is required"]


def test_blank_required_field(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'title = "Moonlit Orchard"', 'title = "   "'))
    assert problems == [f"{path}: drama.title: must not be empty"]


def test_wrong_type(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, "year = 2024", 'year = "2024"'))
    assert problems == [f"{path}: drama.year: must be a whole number, got '2024'"]


@pytest.mark.parametrize("bad", ["Moonlit Orchard", "moonlit_orchard", "moonlit--orchard", "-moonlit", "orchard-"])
def test_bad_slug(tmp_path: Path, bad: str) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'slug = "moonlit-orchard"', f'slug = "{bad}"'))
    assert problems == [
        f"{path}: drama.slug: {bad!r} is not a slug (lowercase letters and digits joined by single hyphens)"
    ]


def test_duplicate_character_slug(tmp_path: Path) -> None:
    extra = '\n[[characters]]\nslug = "seo-jun-hyeok"\nname = "Another Seo"\nbilling = "guest"\n'
    path, problems = problems_of(tmp_path, MOONLIT.read_text(encoding="utf-8") + extra)
    assert problems == [f"{path}: characters[seo-jun-hyeok].slug: 'seo-jun-hyeok' is listed twice"]


def test_duplicate_person_slug(tmp_path: Path) -> None:
    extra = '\n[[people]]\nslug = "choi-do-yun"\nname = "Choi Do-yun"\n'
    path, problems = problems_of(tmp_path, MOONLIT.read_text(encoding="utf-8") + extra)
    assert problems == [f"{path}: people[choi-do-yun].slug: 'choi-do-yun' is listed twice"]


def test_bad_billing(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'billing = "supporting"', 'billing = "cameo"'))
    assert problems == [f"{path}: characters[yoon-gwang-il].billing: 'cameo' is not one of main, supporting, guest"]


def test_duplicate_episode_number(tmp_path: Path) -> None:
    extra = '\n[[episodes]]\nnumber = 2\nair_date = "2024-03-10"\n'
    path, problems = problems_of(tmp_path, MOONLIT.read_text(encoding="utf-8") + extra)
    assert problems == [f"{path}: episodes[2].number: episode 2 is listed twice"]


def test_renumbered_duplicate_also_leaves_a_gap(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, "number = 3\n", "number = 2\n"))
    assert problems == [
        f"{path}: episodes[2].number: episode 2 is listed twice",
        f"{path}: episodes: missing episode(s) 3 of 1–4",
    ]


def test_missing_episodes_are_listed_as_ranges(tmp_path: Path) -> None:
    text = edited(MOONLIT, "episode_count = 4", "episode_count = 7")
    old = 'number = 2\ntitle = "The First Harvest"\nair_date = "2024-03-10"'
    assert old in text
    text = text.replace(old, 'number = 8\nair_date = "2024-05-01"')
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}: episodes[8].number: 8 is past episode_count (7)",
        f"{path}: episodes: missing episode(s) 2, 5–7 of 1–7",
    ]


def test_no_episodes_at_all(tmp_path: Path) -> None:
    text = '[drama]\nslug = "bare"\ntitle = "Bare"\nyear = 2024\ntimezone = "Asia/Seoul"\nepisode_count = 2\n'
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}: episodes: none listed; episode_count is 2"]


def test_huge_episode_count_is_reported_quickly(tmp_path: Path) -> None:
    text = edited(MOONLIT, "episode_count = 4", "episode_count = 1000000000000")
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}: episodes: missing episode(s) 5–1000000000000 of 1–1000000000000"]


def test_episode_past_episode_count(tmp_path: Path) -> None:
    extra = '\n[[episodes]]\nnumber = 5\nair_date = "2024-03-23"\n'
    path, problems = problems_of(tmp_path, MOONLIT.read_text(encoding="utf-8") + extra)
    assert problems == [f"{path}: episodes[5].number: 5 is past episode_count (4)"]


def test_episodes_out_of_order(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'air_date = "2024-03-16"', 'air_date = "2024-03-01"'))
    assert problems == [f"{path}: episodes[3].air_date: airs before episode 2"]


def test_fact_tagged_past_the_last_episode(tmp_path: Path) -> None:
    text = edited(MOONLIT, '{ episode = 4, text = "She sells the orchard." }', '{ episode = 9, text = "Later." }')
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}: characters[kang-hae-rim].facts[0].episode: 9 is past the last episode (4)"]


def test_relation_revealed_past_the_last_episode(tmp_path: Path) -> None:
    text = edited(MOONLIT, 'kind = "secret daughter of", episode = 3', 'kind = "secret daughter of", episode = 5')
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}: characters[kang-hae-rim].relations[1].episode: 5 is past the last episode (4)"]


def test_relation_to_an_unknown_slug(tmp_path: Path) -> None:
    text = edited(MOONLIT, '{ to = "yoon-gwang-il"', '{ to = "yoon-gwang-ill"')
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}: characters[kang-hae-rim].relations[1].to: 'yoon-gwang-ill' is not a character in this pack"
    ]


def test_cast_naming_an_unknown_person(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'person = "choi-do-yun"', 'person = "choi-do-yoon"'))
    assert problems == [f"{path}: cast[2].person: 'choi-do-yoon' is not one of the pack's people"]


def test_cast_naming_an_unknown_character(tmp_path: Path) -> None:
    text = edited(MOONLIT, 'character = "yoon-gwang-il"', 'character = "yoon-gwang"')
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}: cast[3].character: 'yoon-gwang' is not a character in this pack"]


@pytest.mark.parametrize("zone", ["Asia/Soul", "KST+9", "Asia", "Asia/", "../etc/passwd", "x" * 300])
def test_bad_time_zone(tmp_path: Path, zone: str) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'timezone = "Asia/Seoul"', f'timezone = "{zone}"'))
    assert problems == [f"{path}: drama.timezone: {zone!r} is not an IANA time zone (like Asia/Seoul)"]


@pytest.mark.parametrize("bad", ["2024-02-30", "10/03/2024", "2024-3-10", ""])
def test_bad_air_date(tmp_path: Path, bad: str) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'air_date = "2024-03-10"', f'air_date = "{bad}"'))
    # Only the date: the episode is listed, so it is not also reported missing.
    assert problems == [f"{path}: episodes[2].air_date: {bad!r} is not a date as YYYY-MM-DD"]


def test_air_date_of_the_wrong_type(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'air_date = "2024-03-10"', "air_date = 20240310"))
    assert problems == [f"{path}: episodes[2].air_date: 20240310 is not a date as YYYY-MM-DD"]


def test_missing_air_date(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'air_date = "2024-03-10"\n', ""))
    assert problems == [f"{path}: episodes[2].air_date: is required"]


def test_air_date_that_cannot_be_converted_to_utc(tmp_path: Path) -> None:
    # 0001-01-01 08:00 in Seoul (UTC+9) is before the first instant Python can represent in UTC.
    text = edited(MOONLIT, 'air_date = "2024-03-09"', 'air_date = "0001-01-01"').replace('"21:00"', '"08:00"', 1)
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}: episodes[1].air_date: '0001-01-01' is out of range"]


@pytest.mark.parametrize("bad", ["25:00", "9:30", "22:60", "10pm", "22:30:00", "1\u0662:30"])
def test_bad_episode_air_time(tmp_path: Path, bad: str) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'air_time = "22:30"', f'air_time = "{bad}"'))
    assert problems == [f"{path}: episodes[3].air_time: {bad!r} is not a time as HH:MM (24 h)"]


def test_bad_drama_air_time(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'air_time = "21:00"', 'air_time = "9 pm"'))
    assert problems == [f"{path}: drama.air_time: '9 pm' is not a time as HH:MM (24 h)"]


def test_unknown_source_id(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, edited(MOONLIT, 'source = "dramawatch"', 'source = "tvmaze"'))
    assert problems == [f"{path}: episodes[1].source: 'tvmaze' is not one of the pack's sources (dramawatch)"]


def test_source_without_any_sources(tmp_path: Path) -> None:
    block = (
        '[[sources]]\nid = "dramawatch"\nname = "Dramawatch researched facts"\nlicence = "Project\'s own text (MIT)"\n'
    )
    text = edited(MOONLIT, block, "")
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}: episodes[1].source: 'dramawatch' is not one of the pack's sources (none)"]


def test_synopsis_over_1500_characters(tmp_path: Path) -> None:
    text = edited(MOONLIT, 'synopsis = "The harvest fails."', f'synopsis = "{"x" * 1501}"')
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}: episodes[2].synopsis: is 1501 characters; at most 1500"]


def test_synopsis_of_exactly_1500_characters_is_fine(tmp_path: Path) -> None:
    text = edited(MOONLIT, 'synopsis = "The harvest fails."', f'synopsis = "{"x" * 1500}"')
    _, problems = problems_of(tmp_path, text)
    assert problems == []


@pytest.mark.parametrize(
    ("old", "field", "limit"),
    [
        ('description = "The village mayor."', "characters[yoon-gwang-il].description", 1000),
        ('text = "He bought the deed."', "characters[seo-jun-hyeok].facts[0].text", 500),
        ('premise = "A pear grower and a returning botanist share one orchard."', "drama.premise", 1000),
        ('name = "Choi Do-yun"', "people[choi-do-yun].name", 100),
    ],
)
def test_other_length_limits(tmp_path: Path, old: str, field: str, limit: int) -> None:
    key = old.split(" = ")[0]
    path, problems = problems_of(tmp_path, edited(MOONLIT, old, f'{key} = "{"z" * (limit + 1)}"'))
    assert problems == [f"{path}: {field}: is {limit + 1} characters; at most {limit}"]


def test_invalid_toml_syntax(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, '[drama\nslug = "broken"\n')
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: not valid TOML: ")


def test_a_drama_slug_used_by_two_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.toml", MOONLIT.read_text(encoding="utf-8"))
    second = write(tmp_path, "b.toml", MOONLIT.read_text(encoding="utf-8"))
    catalog, problems = load_catalog([tmp_path])
    assert problems == [f"{second}: drama.slug: 'moonlit-orchard' is already used by {first}"]
    assert catalog.dramas["moonlit-orchard"].file == str(first)


def test_the_same_person_with_different_names_in_two_packs(tmp_path: Path) -> None:
    write(tmp_path, "moonlit-orchard.toml", MOONLIT.read_text(encoding="utf-8"))
    lanterns = write(tmp_path, "paper-lanterns.toml", edited(LANTERNS, 'name = "Oh Tae-sung"', 'name = "Oh Tae-seong"'))
    _, problems = load_catalog([tmp_path])
    assert problems == [
        f"{lanterns}: people[oh-tae-sung].name: 'Oh Tae-seong' differs from 'Oh Tae-sung' in another pack"
    ]


def test_a_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    catalog, problems = load_catalog([missing])
    assert problems == [f"{missing}: no such file or folder"]
    assert len(catalog) == 0


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = edited(MOONLIT, 'network = "JTBC"', 'netwrok = "JTBC"')
    text = text.replace("year = 2024\n", "", 1)
    text = text.replace('source = "dramawatch"', 'source = "wiki"', 1)
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}: drama.year: is required",
        f"{path}: drama.netwrok: is not a known field (a typo?)",
        f"{path}: episodes[1].source: 'wiki' is not one of the pack's sources (dramawatch)",
    ]
    with pytest.raises(CatalogError) as raised:
        load_catalog_or_raise([path])
    assert raised.value.problems == problems
    assert str(raised.value) == "\n".join(problems)


def test_problems_across_several_files_are_all_reported(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", edited(MOONLIT, 'timezone = "Asia/Seoul"', 'timezone = "Mars/Olympus"'))
    b = write(tmp_path, "b.toml", edited(LANTERNS, "year = 2023", "year = 1800"))
    c = write(tmp_path, "c.toml", "not toml at all")
    _, problems = load_catalog([tmp_path])
    assert [p.split(": ")[0] for p in problems] == [str(a), str(b), str(c)]
    assert problems[1] == f"{b}: drama.year: must be at least 1950, got 1800"


# -- garbage never raises ------------------------------------------------------------------------------------
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.dates()
    | st.datetimes()
    | st.times()
    | st.sampled_from(["", " ", "21:00", "2024-03-09", "Asia/Seoul", "Asia", "kang-hae-rim", "dramawatch", "x" * 1501])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
GOOD_DATA: dict[str, Any] = tomllib.loads(MOONLIT.read_text(encoding="utf-8"))
LINE = re.compile(r"^pack\.toml: .*: \S", re.DOTALL)  # keys may be any TOML string, even "" or "\n"


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a parsed pack (dict keys and list indexes) where a value could be replaced."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*prefix, i))
    return found


PATHS = _paths(GOOD_DATA)


def _replaced(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: _replaced(data[head], rest, new)}
    copy = list(data)
    copy[head] = _replaced(copy[head], rest, new)
    return copy


def _check(data: dict[str, Any]) -> None:
    drama, people, problems = parse_pack(data, "pack.toml")
    assert isinstance(people, list)
    assert all(isinstance(p, str) and LINE.match(p) for p in problems), problems
    assert (drama is None) == bool(problems)


def test_the_path_list_covers_the_pack() -> None:
    assert ("drama", "timezone") in PATHS
    assert ("characters", 0, "relations", 1, "episode") in PATHS
    _check(GOOD_DATA)  # unchanged: valid
    assert parse_pack(GOOD_DATA, "pack.toml")[0] is not None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(replacements=st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3))
def test_garbage_in_place_of_fields_gives_problems_not_exceptions(replacements: list[tuple[tuple, Any]]) -> None:
    data: Any = GOOD_DATA
    for path, value in replacements:
        try:
            data = _replaced(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this place
    _check(data)


@settings(max_examples=200)
@given(
    data=st.dictionaries(
        st.sampled_from(["drama", "sources", "episodes", "people", "characters", "cast"]) | st.text(max_size=8),
        VALUES,
        max_size=6,
    )
)
def test_garbage_sections_give_problems_not_exceptions(data: dict[str, Any]) -> None:
    _check(data)


@settings(max_examples=200)
@given(
    drama=st.dictionaries(
        st.sampled_from(list(GOOD_DATA["drama"])),
        st.one_of(SCALARS, st.integers(min_value=-5, max_value=10**30)),
        max_size=8,
    ),
    air_date=st.dates() | st.text(max_size=12),
    air_time=st.text(max_size=6) | st.times(),
)
def test_garbage_drama_and_episode_fields(drama: dict[str, Any], air_date: Any, air_time: Any) -> None:
    data = {**GOOD_DATA, "drama": {**GOOD_DATA["drama"], **drama}}
    data["episodes"] = [{**data["episodes"][0], "air_date": air_date, "air_time": air_time}, *data["episodes"][1:]]
    _check(data)


def test_an_extreme_date_with_a_time_reports_not_raises() -> None:
    data = {
        "drama": {**GOOD_DATA["drama"], "timezone": "America/Los_Angeles", "episode_count": 1},
        "sources": GOOD_DATA["sources"],
        "episodes": [{**GOOD_DATA["episodes"][0], "air_date": date(9999, 12, 31)}],
    }
    drama, _, problems = parse_pack(data, "pack.toml")
    assert drama is None
    assert problems == ["pack.toml: episodes[1].air_date: '9999-12-31' is out of range"]
    data["episodes"][0]["air_time"] = time(21, 0)
    assert "pack.toml: episodes[1].air_time: must be text, got time" in parse_pack(data, "pack.toml")[2]
