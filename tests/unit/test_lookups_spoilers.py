"""bot.lookups, bot.spoilers and the catalog cards in bot.ui.catalog, over the fixture packs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.catalog import load_catalog
from bot.catalog.models import Person
from bot.errors import InvalidInput, NotFound
from bot.lookups import Lookups, target_value
from bot.spoilers import may_show_plain, shield, spoiler
from bot.ui.catalog import (
    EPISODES_PER_PAGE,
    character_embed,
    drama_embed,
    drama_pages,
    person_embed,
    progress_embed,
    recap_embed,
)
from tests.unit.packs import GOOD, good_lookups, long_pack, write

LOOKUPS = good_lookups()
CATALOG = LOOKUPS.catalog
MOONLIT = CATALOG.dramas["moonlit-orchard"]
LANTERNS = CATALOG.dramas["paper-lanterns"]
HAE_RIM = ("character", "moonlit-orchard", "kang-hae-rim")
YE_JIN = ("character", "paper-lanterns", "kang-ye-jin")
EP1_UTC = 1709985600  # 2024-03-09 12:00 UTC: 21:00 in Seoul


def fields(embed: discord.Embed) -> dict[str, str]:
    return {f.name: f.value for f in embed.fields}


# -- dramas ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("moonlit-orchard", "moonlit-orchard"),
        ("  moonlit-orchard ", "moonlit-orchard"),
        ("Moonlit Orchard", "moonlit-orchard"),
        ("moonlit orchard", "moonlit-orchard"),
        ("Orchard Moon", "moonlit-orchard"),
        ("달빛 과수원", "moonlit-orchard"),
        ("PL", "paper-lanterns"),
        ("Paper Lanterns", "paper-lanterns"),
    ],
)
def test_drama_resolves_slug_title_and_alias(query: str, slug: str) -> None:
    resolved = LOOKUPS.drama(query)
    assert resolved.drama.slug == slug
    assert resolved.guessed_from is None


@pytest.mark.parametrize(
    ("query", "slug"), [("Moonlit Orchad", "moonlit-orchard"), ("Paper Lantern", "paper-lanterns")]
)
def test_drama_resolves_a_close_typo_and_says_so(query: str, slug: str) -> None:
    resolved = LOOKUPS.drama(query)
    assert resolved.drama.slug == slug
    assert resolved.guessed_from == query


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [("Moon Orchestra", "**Moonlit Orchard (2024)**"), ("Papr Lntrn", "**Paper Lanterns (2023)**")],
)
def test_drama_farther_typo_suggests(query: str, suggestion: str) -> None:
    with pytest.raises(NotFound) as raised:
        LOOKUPS.drama(query)
    assert raised.value.message == f"No drama named {query}. Did you mean {suggestion}?"


@pytest.mark.parametrize("query", ["xyzzy", "", "   "])
def test_drama_nonsense_is_not_found(query: str) -> None:
    with pytest.raises(NotFound) as raised:
        LOOKUPS.drama(query)
    assert "Did you mean" not in raised.value.message
    assert "`/drama` with the autocomplete lists what I know." in raised.value.message


def test_drama_not_found_echoes_the_query_inertly() -> None:
    with pytest.raises(NotFound) as raised:
        LOOKUPS.drama("@everyone **zzzqqq**")
    assert "@everyone" not in raised.value.message
    assert "\\*\\*zzzqqq\\*\\*" in raised.value.message


@settings(max_examples=150)
@given(text=st.text(max_size=80))
def test_drama_only_ever_raises_not_found(text: str) -> None:
    try:
        resolved = LOOKUPS.drama(text)
    except NotFound as exc:
        assert exc.message.startswith("No drama named ")
    else:
        assert resolved.drama.slug in CATALOG.dramas


def test_drama_choices() -> None:
    assert LOOKUPS.drama_choices("moon") == [("Moonlit Orchard (2024)", "moonlit-orchard")]
    assert [v for _, v in LOOKUPS.drama_choices("")] == ["moonlit-orchard", "paper-lanterns"]


# -- episodes ----------------------------------------------------------------------------------------------------
def test_episode_in_range() -> None:
    assert Lookups.episode(MOONLIT, 1).number == 1
    assert Lookups.episode(MOONLIT, 4).number == 4


@pytest.mark.parametrize("number", [5, 0, -1])
def test_episode_out_of_range_names_the_range(number: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        Lookups.episode(MOONLIT, number)
    assert raised.value.message == f"`episode`: Moonlit Orchard has episodes 1–4; {number} is not one of them."


def test_episode_choices() -> None:
    assert LOOKUPS.episode_choices("moonlit-orchard", "") == [
        ("Episode 1 · 2024-03-09", 1),
        ("Episode 2 · The First Harvest · 2024-03-10", 2),
        ("Episode 3 · 2024-03-16", 3),
        ("Episode 4 · 2024-03-17", 4),
    ]
    assert LOOKUPS.episode_choices("Moonlit Orchard", "3") == [("Episode 3 · 2024-03-16", 3)]
    assert LOOKUPS.episode_choices("moonlit-orchard", "9") == []
    assert len(LOOKUPS.episode_choices("moonlit-orchard", "", limit=2)) == 2
    assert LOOKUPS.episode_choices("no such drama", "") == []
    assert LOOKUPS.episode_choices("", "1") == []


def test_episode_choices_show_the_local_air_date_of_a_release() -> None:
    # A release counts from midnight in Seoul, which is 15:00 UTC the day before: show the pack's date.
    assert LOOKUPS.episode_choices("PL", "") == [
        ("Episode 1 · 2023-11-03", 1),
        ("Episode 2 · 2023-11-03", 2),
        ("Episode 3 · 2023-11-10", 3),
    ]


# -- characters and people ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["Rimi", "Kang Hae-rim", "강해림", "haerim", "Kang Haerm"])
def test_who_unique_name_gives_one_hit(query: str) -> None:
    hits = LOOKUPS.who(query)
    assert [h.target for h in hits] == [HAE_RIM]


def test_who_ambiguous_family_name_gives_several() -> None:
    assert {h.target for h in LOOKUPS.who("Kang")} == {HAE_RIM, YE_JIN}


def test_who_respects_drama() -> None:
    assert [h.target for h in LOOKUPS.who("Kang", LANTERNS)] == [YE_JIN]
    assert [h.target for h in LOOKUPS.who("Kang", MOONLIT)] == [HAE_RIM]
    # An actor belongs to every drama they have a role in.
    assert [h.target for h in LOOKUPS.who("Oh Tae-sung", MOONLIT)] == [("person", "oh-tae-sung")]
    assert [h.target for h in LOOKUPS.who("Oh Tae-sung", LANTERNS)] == [("person", "oh-tae-sung")]
    with pytest.raises(NotFound) as raised:
        LOOKUPS.who("Baek Ha-neul", MOONLIT)
    assert raised.value.message.startswith("No character or actor named Baek Ha-neul in Moonlit Orchard.")


def test_who_nonsense_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        LOOKUPS.who("zzzz")
    assert raised.value.message == "No character or actor named zzzz."


def test_who_choices() -> None:
    assert LOOKUPS.who_choices("kang") == [
        ("Kang Hae-rim — Moonlit Orchard", "c:moonlit-orchard/kang-hae-rim"),
        ("Kang Ye-jin — Paper Lanterns", "c:paper-lanterns/kang-ye-jin"),
    ]
    assert LOOKUPS.who_choices("kang", "Paper Lanterns") == [
        ("Kang Ye-jin — Paper Lanterns", "c:paper-lanterns/kang-ye-jin")
    ]
    assert {v for _, v in LOOKUPS.who_choices("", "PL")} == {
        "c:paper-lanterns/kang-ye-jin",
        "c:paper-lanterns/do-hyeon-seok",
        "p:baek-ha-neul",
        "p:oh-tae-sung",
    }
    # An unknown drama does not restrict anything.
    assert len(LOOKUPS.who_choices("kang", "no such drama")) == 2


def test_target_round_trip() -> None:
    assert len(LOOKUPS.index.who.targets()) == 10
    for target in LOOKUPS.index.who.targets():
        found = LOOKUPS.target(target_value(target))
        if target[0] == "character":
            assert isinstance(found, tuple)
            drama, character = found
            assert (drama.slug, character.slug) == target[1:]
        else:
            assert isinstance(found, Person)
            assert found.slug == target[1]


@pytest.mark.parametrize(
    "value", ["", "c:", "c:moonlit-orchard", "c:moonlit-orchard/nobody", "c:nowhere/kang-hae-rim", "p:nobody", "x:y"]
)
def test_target_unknown_values(value: str) -> None:
    assert LOOKUPS.target(value) is None


def test_target_values() -> None:
    assert target_value(HAE_RIM) == "c:moonlit-orchard/kang-hae-rim"
    assert target_value(("person", "oh-tae-sung")) == "p:oh-tae-sung"


# -- spoilers ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "wrapped"),
    [
        ("She sells the orchard.", "||She sells the orchard.||"),
        ("  padded  ", "||padded||"),
        ("a | b", "||a \\| b||"),
        ("a||b", "||a\\|\\|b||"),
        ("ends with a backslash \\", "||ends with a backslash \\\\||"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_spoiler(text: str, wrapped: str) -> None:
    assert spoiler(text) == wrapped


@settings(max_examples=200)
@given(text=st.text(min_size=1).filter(str.strip))
@example(text="a trailing backslash\\")
@example(text="\\||\\")
def test_spoiler_cannot_be_closed_early(text: str) -> None:
    wrapped = spoiler(text)
    inner = wrapped[2:-2]
    assert wrapped.startswith("||") and wrapped.endswith("||")
    # Read the way Discord's markdown does: a backslash escapes the next character.
    i = 0
    while i < len(inner):
        if inner[i] == "\\":
            i += 2
            continue
        assert inner[i] != "|", wrapped
        i += 1
    assert i == len(inner)  # no trailing lone backslash to escape the closing bars


@pytest.mark.parametrize(
    ("episode", "watched", "ephemeral", "thread", "plain"),
    [
        (3, 0, False, False, False),
        (3, 5, False, False, False),  # watched, but in a shared reply
        (3, 2, True, False, False),  # ephemeral, but not watched yet
        (3, 3, True, False, True),
        (3, 4, True, False, True),
        (3, 0, False, True, True),  # in the episode's own thread
        (3, 0, True, True, True),
    ],
)
def test_may_show_plain(episode: int, watched: int, ephemeral: bool, thread: bool, plain: bool) -> None:
    assert may_show_plain(episode=episode, watched=watched, ephemeral=ephemeral, in_episode_thread=thread) is plain


def test_shield() -> None:
    assert shield("x|y", plain=True) == "x|y"
    assert shield("x|y", plain=False) == "||x\\|y||"


# -- cards -------------------------------------------------------------------------------------------------------
def test_recap_embed_hides_the_synopsis_unless_plain() -> None:
    episode = MOONLIT.episode(1)
    hidden = recap_embed(MOONLIT, episode, plain=False)
    assert hidden.title == "Moonlit Orchard · Episode 1"
    assert hidden.description == "||Hae-rim finds a stranger \\| asleep under her pear trees.||"
    assert hidden.footer.text == "Synopsis: Dramawatch researched facts · spoilers hidden: click to reveal"
    shown = recap_embed(MOONLIT, episode, plain=True)
    assert shown.description == "Hae-rim finds a stranger | asleep under her pear trees."
    assert shown.footer.text == "Synopsis: Dramawatch researched facts"


def test_recap_embed_uses_discord_timestamps() -> None:
    embed = recap_embed(MOONLIT, MOONLIT.episode(1), plain=False, recap_links=["https://example.org/r1"], thread_id=42)
    assert fields(embed) == {
        "Aired": f"<t:{EP1_UTC}:F> (<t:{EP1_UTC}:R>)",
        "Recaps": "https://example.org/r1",
        "Discussion": "<#42>",
    }


def test_recap_embed_for_a_release_and_an_episode_without_synopsis() -> None:
    release = recap_embed(LANTERNS, LANTERNS.episode(1), plain=False)
    # A release has a date, not an hour: shown as the day in the drama's zone (no Discord timestamp,
    # which would show the day before west of Seoul).
    assert fields(release)["Released"] == "3 November 2023 (release date)"
    assert release.footer.text.startswith("Synopsis: Summary from TVmaze (CC BY-SA)")
    empty = recap_embed(MOONLIT, MOONLIT.episode(3), plain=False)
    assert empty.title == "Moonlit Orchard · Episode 3"
    assert empty.description == "No synopsis for this episode yet."
    assert empty.footer.text is None  # no text, so nobody is credited and nothing is hidden
    assert fields(empty)["Recaps"] == "No recap links yet."
    titled = recap_embed(MOONLIT, MOONLIT.episode(2), plain=True)
    assert titled.title == "Moonlit Orchard · Episode 2 · The First Harvest"


def test_character_embed_before_watching_shows_no_facts() -> None:
    character = MOONLIT.characters["kang-hae-rim"]
    embed = character_embed(CATALOG, MOONLIT, character, watched=0, plain=False)
    shown = fields(embed)
    assert embed.title == "Kang Hae-rim (강해림)"
    assert embed.description == "A stubborn pear grower."
    assert shown["Played by"] == "Lee Seo-ah (이서아) — young\nHan Ji-hyeon (한지현) — older"
    assert shown["Relations"] == "childhood friend of Seo Jun-hyeok"  # known from the start; not the episode-3 one
    assert "What you've seen" not in shown
    # Three facts (episodes 1, 2, 4) and one relation revealed in episode 3.
    assert shown["Spoiler shield"] == (
        "4 more facts are hidden until you've watched further: the next with episode 1. Set `/progress` to unlock them."
    )
    text = str(embed.to_dict())
    for fact in ("She keeps a diary.", "She lost the deed.", "She sells the orchard.", "secret daughter"):
        assert fact not in text


def test_character_embed_part_way() -> None:
    character = MOONLIT.characters["kang-hae-rim"]
    shown = fields(character_embed(CATALOG, MOONLIT, character, watched=2, plain=False))
    assert shown["What you've seen"] == "Ep 1: ||She keeps a diary.||\nEp 2: ||She lost the deed.||"
    # A public reply doesn't tell everyone how far the asker has watched; a private one does.
    assert shown["Spoiler shield"] == "2 more facts are hidden until you've watched further: the next with episode 3."
    private = fields(character_embed(CATALOG, MOONLIT, character, watched=2, plain=True))
    assert private["Spoiler shield"].endswith("the next with episode 3 (you're at episode 2).")


@pytest.mark.parametrize("plain", [False, True])
def test_character_embed_after_the_last_episode_shows_every_fact(plain: bool) -> None:
    character = MOONLIT.characters["kang-hae-rim"]
    shown = fields(character_embed(CATALOG, MOONLIT, character, watched=MOONLIT.episode_count, plain=plain))
    bars = "" if plain else "||"
    assert shown["What you've seen"] == "\n".join(
        f"Ep {n}: {bars}{text}{bars}"
        for n, text in [(1, "She keeps a diary."), (2, "She lost the deed."), (4, "She sells the orchard.")]
    )
    assert shown["Relations"] == (
        f"childhood friend of Seo Jun-hyeok\n{bars}secret daughter of Yoon Gwang-il (episode 3){bars}"
    )
    assert "Spoiler shield" not in shown


def test_character_embed_one_locked_fact_is_singular() -> None:
    character = MOONLIT.characters["seo-jun-hyeok"]
    shown = fields(character_embed(CATALOG, MOONLIT, character, watched=1, plain=False))
    assert shown["Spoiler shield"] == "1 more fact is hidden until you've watched further: the next with episode 3."
    assert shown["Played by"] == "Choi Do-yun"


def test_person_embed_lists_roles_in_both_dramas() -> None:
    person = CATALOG.people["oh-tae-sung"]
    embed = person_embed(person, CATALOG.roles(person.slug))
    assert embed.title == "Oh Tae-sung (오태성)"
    assert fields(embed)["Roles in the catalog"] == (
        "**Do Hyeon-seok** in Paper Lanterns (2023)\n**Yoon Gwang-il** in Moonlit Orchard (2024)"
    )
    older = person_embed(CATALOG.people["han-ji-hyeon"], CATALOG.roles("han-ji-hyeon"))
    assert fields(older)["Roles in the catalog"] == "**Kang Hae-rim** in Moonlit Orchard (2024, older)"
    assert fields(person_embed(Person("nobody", "No Body"), []))["Roles in the catalog"] == "None yet."


def test_drama_embed_broadcast() -> None:
    before = datetime(2024, 3, 1, tzinfo=UTC)
    between = datetime(2024, 3, 12, tzinfo=UTC)
    embed = drama_embed(CATALOG, MOONLIT, between)
    shown = fields(embed)
    assert embed.title == "Moonlit Orchard (달빛 과수원)"
    assert embed.description == "A pear grower and a returning botanist share one orchard."
    assert shown["Schedule"] == "Saturdays and Sundays, 21:00 (Asia/Seoul)"
    assert shown["Credits"] == "Written by Min Ga-ram\nDirected by Jo Eun-byeol"
    assert shown["Main cast"] == "Kang Hae-rim — Lee Seo-ah / Han Ji-hyeon\nSeo Jun-hyeok — Choi Do-yun"
    assert shown["Next episode"] == "Episode 3: <t:1710595800:F> (<t:1710595800:R>)"
    assert "Premiere" not in shown
    assert shown["Episodes (4)"].splitlines()[0] == f"**1** · <t:{EP1_UTC}:f>"
    assert "Premiere" in fields(drama_embed(CATALOG, MOONLIT, before))
    after = fields(drama_embed(CATALOG, MOONLIT, datetime(2025, 1, 1, tzinfo=UTC)))
    assert "Next episode" not in after and "Premiere" not in after


def test_drama_embed_release() -> None:
    shown = fields(drama_embed(CATALOG, LANTERNS, datetime(2023, 1, 1, tzinfo=UTC)))
    assert shown["Schedule"] == "Released in batches"
    assert shown["Streaming"] == "Netflix"
    assert shown["Premiere"] == "Episode 1: 3 November 2023 (release date)"
    assert shown["Episodes (3)"].splitlines()[0] == "**1** · 3 November 2023"


def test_drama_embed_paginates_45_episodes(tmp_path: Path) -> None:
    catalog, problems = load_catalog([GOOD, write(tmp_path, "long.toml", long_pack("long-river", 45))])
    assert problems == []
    drama = catalog.dramas["long-river"]
    assert EPISODES_PER_PAGE == 20
    assert drama_pages(drama) == 3
    now = datetime(2024, 1, 10, tzinfo=UTC)
    pages = [fields(drama_embed(catalog, drama, now, page)) for page in range(3)]
    names = [next(name for name in page if name.startswith("Episodes")) for page in pages]
    assert names == ["Episodes (45) · page 1/3", "Episodes (45) · page 2/3", "Episodes (45) · page 3/3"]
    numbers = [
        [line.split(" · ")[0] for line in page[name].splitlines()] for page, name in zip(pages, names, strict=True)
    ]
    assert numbers == [
        [f"**{n}**" for n in range(1, 21)],
        [f"**{n}**" for n in range(21, 41)],
        [f"**{n}**" for n in range(41, 46)],
    ]
    # 20:00 in Seoul on 2024-01-01 is 11:00 UTC.
    first = int(datetime(2024, 1, 1, 11, tzinfo=UTC).timestamp())
    assert pages[0][names[0]].splitlines()[0] == f"**1** · <t:{first}:f>"
    # Out-of-range pages are clamped.
    assert "Episodes (45) · page 3/3" in fields(drama_embed(catalog, drama, now, 7))
    assert "Episodes (45) · page 1/3" in fields(drama_embed(catalog, drama, now, -2))
    assert drama_pages(MOONLIT) == 1


def test_progress_embed_without_progress() -> None:
    embed = progress_embed(CATALOG, {})
    assert embed.title == "Your progress (the spoiler shield)"
    assert embed.description.startswith("Nothing set yet.")


def test_progress_embed_with_progress() -> None:
    embed = progress_embed(CATALOG, {"moonlit-orchard": 2, "paper-lanterns": 3, "gone-drama": 7})
    assert embed.description == (
        "**Moonlit Orchard**: episode 2/4\n**Paper Lanterns**: episode 3/3\n**gone-drama**: episode 7"
    )
