"""bot.ui.limits — one place that makes every embed and message text fit Discord — and the builders
in bot/ui over every user- or feed-controlled text (hypothesis): within every limit, spoiler bars
balanced, no plot outside them, no markdown or mention from user text left active."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.answers import RecapAnswer
from bot.feeds.service import Preview
from bot.spoilers import spoiler
from bot.storage.community import CommunityRecap
from bot.storage.feeds import Feed, Item
from bot.storage.guild_settings import GuildSettings
from bot.storage.watchparties import Party
from bot.text import escape, quote
from bot.ui import limits
from bot.ui.community import outcome_text, recap_lines, review_card, submitted_text
from bot.ui.feeds import added_text, feed_item_embed, feed_status, preview_text
from bot.ui.lookups import recap_reply, who_pick_view
from bot.ui.settings import settings_embed
from bot.ui.watchparties import (
    announcement_embed,
    listing_embed,
    party_choice,
    reminder_texts,
    starting_text,
    where_text,
)
from bot.watchparties import Listing
from tests.discord_text import embed_problems, read, texts_of
from tests.unit.packs import good_lookups

CATALOG = good_lookups().catalog
MOONLIT = CATALOG.dramas["moonlit-orchard"]
EPISODE = MOONLIT.episode(1)
assert EPISODE is not None
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
PLOT = "SECRET"  # plot words: must never be readable outside spoiler bars

# -- strategies: hostile user and feed text ----------------------------------------------------------------------
FRAGMENTS = [
    "**",
    "__",
    "~~",
    "`",
    "```",
    "||",
    "|",
    "\\",
    "*",
    "_",
    "[x](https://e.example/a)",
    "<@&123>",
    "<@123>",
    "<#123>",
    "<t:0:R>",
    "</help:1>",
    "<:e:1>",
    "@everyone",
    "@here",
    "@\u200beveryone",
    "# ",
    "> ",
    "- ",
    "1. ",
    "-# ",
    "https://example.org/a_b||c*d",
    "\n",
    " ",
    "…",
    "한글",
]
WORDS = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=12)
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), WORDS, st.text(max_size=4)), max_size=60).map("".join)


def long_hostile(size: int) -> st.SearchStrategy[str]:
    """Up to `size` characters: a hostile pattern repeated (escaping makes it grow), or hostile text."""
    repeated = st.tuples(hostile, st.integers(1, size)).map(lambda t: (t[0] * (t[1] // max(len(t[0]), 1) + 1))[:size])
    return st.one_of(hostile, repeated, st.sampled_from(["*" * size, "|" * size, "\\" * size, "_" * size]))


def plot(size: int) -> st.SearchStrategy[str]:
    """Plot text: hostile text with the plot word in it."""
    return st.tuples(long_hostile(size // 2), long_hostile(size // 2)).map(lambda t: f"{t[0]} {PLOT} {t[1]}"[:size])


# -- the checks --------------------------------------------------------------------------------------------------
PINGS = re.compile(r"@(everyone|here)")


def check_text(text: str, *, templates: tuple[str, ...] = ()) -> None:
    """`templates`: the mentions the bot itself wrote into this text (e.g. the author's <@id>)."""
    seen = read(text)
    assert seen.balanced, text
    assert seen.raw == [], (seen.raw, text)
    assert PLOT not in seen.plain, text
    assert not PINGS.search(text), text
    for mention in seen.mentions:  # any other is a mention from user text left active
        # The builders' own timestamps are of real times; user text offers "<t:0:R>".
        assert mention in templates or (mention.startswith("<t:") and not mention.startswith("<t:0")), (mention, text)


def check_embeds(embeds: list[discord.Embed], content: str | None = None, templates: tuple[str, ...] = ()) -> None:
    dicts = [embed.to_dict() for embed in embeds]
    assert embed_problems(dicts, content) == [], embed_problems(dicts, content)
    for text in texts_of(dicts, content):
        check_text(text, templates=templates)
    for embed in dicts:  # plain-text places: no plot at all
        assert PLOT not in ((embed.get("footer") or {}).get("text") or "")
        assert PLOT not in ((embed.get("author") or {}).get("name") or "")


def check_content(text: str, templates: tuple[str, ...] = ()) -> None:
    assert 0 < len(text) <= limits.CONTENT
    check_text(text, templates=templates)


# -- fit ---------------------------------------------------------------------------------------------------------
def test_fit_leaves_text_that_fits_alone() -> None:
    text = "**bold** ||secret|| <t:1:R>"
    assert limits.fit(text, len(text)) == text


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("**Title** by x: ||SECRET plot word SECRET plot||", 30, "**Title** by x: ||SECRET…||"),
        ("a ||b c d e f g h||", 6, "a…"),  # no empty spoiler left: its opening bars go too
        ("see <t:1234567890:F> now", 15, "see…"),  # never half a timestamp
        ("see [a link](https://x.org/a) now", 20, "see…"),
        ("a \\*\\*\\*\\*", 6, "a \\*…"),  # never half an escape
        ("x https://example.org/long/path y", 20, "x…"),
        ("snake_case and **bold text here**", 26, "snake_case and **bold…**"),
        ("abc", 0, ""),
    ],
)
def test_fit_cuts_between_whole_tokens_and_closes_what_is_open(text: str, limit: int, expected: str) -> None:
    assert limits.fit(text, limit) == expected


def test_fit_prefers_to_cut_between_words() -> None:
    assert limits.fit("alpha beta gammadelta", 17) == "alpha beta…"
    assert limits.fit("x" * 50, 10) == "x" * 9 + "…"  # one long word: cut inside it


ATOMS = st.sampled_from(
    ["\\*", "\\|", "<@123>", "<t:5:R>", "<#9>", "[t](https://a.example/b)", "https://e.example/x", "`code`"]
)
MARKDOWN = st.lists(st.one_of(ATOMS, WORDS, st.sampled_from([" ", "\n", "**", "||", "__", "~~"])), max_size=80).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(MARKDOWN, st.integers(0, 200))
@example("||" + "\\*" * 2000 + "||", 4096)
@example("**||**x||" + " word" * 30, 9)  # crossing spans: the spoiler must still be closed after the cut
def test_fit_never_exceeds_the_limit_or_breaks_a_token(text: str, limit: int) -> None:
    out = limits.fit(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
        return
    # A cut, then "…" and closing markers: what precedes them is the start of the text, and the cut
    # falls between whole atoms (escapes, mentions, timestamps, links, URLs, code).
    core = re.sub(r"…[|*_~]*$", "", out)
    assert text.startswith(core), (core, text)
    for atom in re.finditer(r"\\.|<[@#t][^>]*>|\[t\]\(https://a\.example/b\)|https://e\.example/x|`code`", text):
        assert not atom.start() < len(core) < atom.end(), (atom.group(), out)
    if read(text).balanced:
        assert read(out).balanced, out


@settings(max_examples=200, deadline=None)
@given(long_hostile(300), st.integers(1, 120))
def test_a_wrapped_spoiler_cut_anywhere_stays_closed(text: str, limit: int) -> None:
    wrapped = spoiler(quote(text + f" {PLOT}", 400))
    out = limits.fit(wrapped, limit)
    assert len(out) <= limit
    seen = read(out)
    assert seen.balanced and PLOT not in seen.plain and seen.plain.strip("…") == ""


# -- escape ------------------------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\u200b"), max_size=80))
@example("don't *cry* over snake_case")
@example("C:\\new\\*x*")
@example("1. list\n- item\n# head\n> quote\n-# small")
def test_escape_renders_exactly_the_text_and_formats_nothing(text: str) -> None:
    if "http" in text:
        return  # links: see the next test
    out = escape(text)
    seen = read(out)
    assert seen.plain.replace("@\u200b", "@") == text
    assert seen.raw == [] and seen.balanced and seen.mentions == []
    assert not PINGS.search(out)


def test_escape_keeps_links_working_and_inert() -> None:
    out = escape("see https://example.org/a_b*c||d~e and _this_")
    assert out == "see <https://example.org/a%5Fb%2Ac%7C%7Cd%7Ee> and \\_this\\_"
    assert read(escape("https://e.example/a)<@&123>")).mentions == []  # the link ends before the "\\<"


# -- join and finish ---------------------------------------------------------------------------------------------
def test_join_drops_whole_lines_and_says_how_many() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(20)]
    out = limits.join(lines, 1024)
    assert len(out) <= 1024 and out.endswith("… and 10 more")
    assert out.splitlines()[:-1] == lines[:10]
    assert limits.join([], 10, empty="None yet.") == "None yet."


def test_join_can_shorten_every_line_instead() -> None:
    lines = ["**t** by a: " + spoiler("plot " * 100)] * 3
    out = limits.join(lines, 1024, shrink_to=200)
    assert len(out) <= 1024 and len(out.splitlines()) == 3
    assert all(read(line).balanced for line in out.splitlines())


def test_finish_enforces_every_embed_limit() -> None:
    embed = discord.Embed(title="t" * 300, description=spoiler("d" * 5000))
    for i in range(30):
        embed.add_field(name=f"n{i}" * 100, value="v" * 2000)
    embed.set_footer(text="f" * 3000)
    embed.set_author(name="a" * 300)
    limits.finish(embed)
    problems = embed_problems([embed.to_dict()])
    assert problems == [], problems
    assert len(embed.fields) == 25 and embed.fields[-1].value == "… and 6 more"
    assert read(embed.description or "").balanced


def test_finish_all_keeps_a_messages_embeds_within_6000_together() -> None:
    embeds = [discord.Embed(description="x" * 4000) for _ in range(3)]
    limits.finish_all(embeds)
    assert sum(len(e) for e in embeds) <= limits.EMBED_TOTAL


def test_components_within_limits() -> None:
    option = limits.option("l" * 300, "v" * 100, "d" * 300)
    assert option is not None and len(option.label) == 100 and len(option.description or "") == 100
    assert limits.option("label", "v" * 101) is None  # a value is never cut: it would point elsewhere
    with pytest.raises(ValueError):
        limits.custom_id("x" * 101)
    assert limits.url("javascript:alert(1)") is None and limits.url("https://a.example/" + "x" * 3000) is None


# -- every builder over user- and feed-controlled text ---------------------------------------------------------
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def community_recap(i: int, title: str, body: str, author: str, reason: str | None = None) -> CommunityRecap:
    return CommunityRecap(i, 1, "moonlit-orchard", 1, 100 + i, author, title, body, "approved", reason)


@PROPERTY
@given(long_hostile(100), plot(4000), long_hostile(60), st.integers(1, 10_000))
def test_review_card(title: str, body: str, author: str, waiting: int) -> None:
    recap = community_recap(1, title, body, author)
    embed, _ = review_card(recap, MOONLIT, waiting)
    check_embeds([embed], templates=("<@101>",))


@PROPERTY
@given(
    st.lists(st.tuples(long_hostile(100), plot(4000), long_hostile(60)), max_size=3),
    st.lists(st.tuples(long_hostile(300), long_hostile(300), long_hostile(80)), max_size=10),
    st.one_of(st.none(), long_hostile(100)),
)
@example([], [("", "", ""), ("1. ", " a", "")], None)  # a link line must not read as a numbered list
def test_recap_reply(
    community: list[tuple[str, str, str]], links: list[tuple[str, str, str]], typed: str | None
) -> None:
    recaps = [community_recap(i, t, b, a) for i, (t, b, a) in enumerate(community)]
    answer = RecapAnswer(
        drama=MOONLIT,
        episode=EPISODE,
        guessed_from=typed,
        aired=True,
        thread_id=5,
        links=[(t, f"https://recaps.example/{u}", s) for t, u, s in links],
        community=recaps,
    )
    content, embed = recap_reply(answer)
    check_embeds([embed], content, templates=("<#5>",))
    for line in recap_lines(recaps):
        check_text(line)


@PROPERTY
@given(long_hostile(600), long_hostile(300), plot(1000), long_hostile(3000))
def test_feed_item_embed(title: str, author: str, excerpt: str, link: str) -> None:
    item = Item(
        feed_id=1,
        key="k",
        state="posted",
        title=title,
        link=link,
        author=author,
        published=NOW,
        excerpt=excerpt,
        drama="moonlit-orchard",
        first_ep=1,
        last_ep=2,
    )
    embed = feed_item_embed(item, MOONLIT, "recaps.example")
    check_embeds([embed])
    assert embed.url is None or limits.url(embed.url) == embed.url


def feed(url: str, title: str, error: str, reason: str) -> Feed:
    return Feed(
        id=1,
        guild_id=1,
        url=url,
        drama=None,
        channel_id=None,
        title=title,
        etag=None,
        last_modified=None,
        state="disabled" if reason else "active",
        disabled_reason=reason or None,
        failures=3,
        primed=False,
        last_success=None,
        last_error=error or None,
        next_poll=None,
        items_posted=0,
        items_unmatched=0,
    )


@PROPERTY
@given(
    long_hostile(2000),
    long_hostile(500),
    long_hostile(2000),
    long_hostile(500),
    st.lists(long_hostile(500), max_size=20),
)
@example("1. ", "", "", "", [])  # a URL "1." starting a line, text after it: not a numbered list
def test_feed_texts(url: str, title: str, error: str, reason: str, previews: list[str]) -> None:
    f = feed(url, title, error, reason)
    check_content(feed_status(f))
    check_content(added_text(f, url, reenabled=False))
    items = [
        Preview(title=t, link="https://x.example", match=(MOONLIT, 1, 1) if i % 2 else None)
        for i, t in enumerate(previews)
    ]
    check_content(preview_text(title, items))


def party(note: str, location: str | None, i: int = 1) -> Party:
    return Party(
        id=i,
        guild_id=1,
        drama="moonlit-orchard",
        first_episode=1,
        last_episode=2,
        start_at=NOW,
        end_at=NOW + timedelta(hours=2),
        timezone="Asia/Seoul",
        channel_id=None,
        location=location,
        repeat="weekly",
        reminders=(60,),
        note=note,
        created_by=1,
        event_id=77,
    )


@PROPERTY
@given(
    long_hostile(2000),
    st.one_of(st.none(), long_hostile(300)),
    st.integers(0, 40),
    st.lists(st.integers(1, 2**60), max_size=200),
)
def test_watch_party_texts(note: str, location: str | None, count: int, going: list[int]) -> None:
    p = party(note, location)
    check_embeds([announcement_embed(MOONLIT, p, {"going": 1, "maybe": 2, "cant": 3})])
    listing = [Listing(party(note, location, i), MOONLIT, {"going": 1, "maybe": 0, "cant": 0}) for i in range(count)]
    check_embeds([listing_embed(listing)])
    mentions = tuple(f"<@{user}>" for user in going)
    for text in reminder_texts(MOONLIT, p, going, 60):
        check_content(text, templates=mentions)
    # Each reminder of a party reads differently, in every message (a retry after a crash tells them apart).
    hour, day = reminder_texts(MOONLIT, p, going, 60), reminder_texts(MOONLIT, p, going, 1440)
    assert len(hour) == len(day) and all(a != b for a, b in zip(hour, day, strict=True))
    check_content(starting_text(MOONLIT, p, 9), templates=("<#9>",))
    check_text(where_text(p))
    assert 0 < len(party_choice(MOONLIT, p)) <= limits.CHOICE_NAME


@PROPERTY
@given(long_hostile(200), long_hostile(2000))
def test_outcomes_and_settings(title: str, reason: str) -> None:
    recap = dataclasses.replace(community_recap(1, title, "x", "a", reason), state="rejected")
    check_content(outcome_text(recap, MOONLIT))
    check_content(outcome_text(dataclasses.replace(recap, state="approved"), MOONLIT))
    check_content(submitted_text(MOONLIT, 1))
    check_embeds([settings_embed(GuildSettings(guild_id=1), reason)])


@PROPERTY
@given(st.lists(st.tuples(long_hostile(300), long_hostile(150)), min_size=1, max_size=40))
def test_who_pick_options(options: list[tuple[str, str]]) -> None:
    view = who_pick_view(options, private=False)
    component: Any = view.to_components()[0]["components"][0]
    assert 1 <= len(component["options"]) <= limits.OPTIONS
    for option in component["options"]:
        assert 1 <= len(option["label"]) <= 100 and 1 <= len(option["value"]) <= 100
