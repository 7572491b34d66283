"""bot.timezones and bot.text: time zone names, and user text made safe to echo."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InvalidInput
from bot.text import clean, quote
from bot.timezones import all_zones, resolve, suggest


# -- time zones ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("asia/seoul", "Asia/Seoul"),
        ("Asia/Seoul", "Asia/Seoul"),
        ("  ASIA/SEOUL ", "Asia/Seoul"),
        ("america/new york", "America/New_York"),
        ("utc", "UTC"),
    ],
)
def test_resolve_finds_the_canonical_name(name: str, canonical: str) -> None:
    assert resolve(name) == canonical


def test_zone_list_has_region_names_and_utc_but_no_legacy_aliases() -> None:
    zones = all_zones()
    assert "Asia/Seoul" in zones and "UTC" in zones
    assert "EST" not in zones and "Zulu" not in zones
    assert list(zones) == sorted(zones)


@pytest.mark.parametrize("query", ["seoul", "Seoul", "SEOUL"])
def test_suggest_includes_asia_seoul(query: str) -> None:
    assert "Asia/Seoul" in suggest(query)


def test_suggest_respects_the_limit_and_prefers_prefix_matches() -> None:
    found = suggest("america/n", limit=3)
    assert len(found) == 3
    assert all(z.startswith("America/N") for z in found)
    assert len(suggest("", limit=4)) == 4


def test_suggest_tolerates_typos() -> None:
    assert "Asia/Seoul" in suggest("Asia/Seol")


@pytest.mark.parametrize("name", ["Asia/Seol", "seoul", "Mars/Olympus_Mons", "KST"])
def test_unknown_names_raise_invalid_input_with_suggestions(name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        resolve(name)
    message = info.value.message
    assert "is not an IANA time zone" in message
    if name in ("Asia/Seol", "seoul"):
        assert "Did you mean" in message and "`Asia/Seoul`" in message


def test_invalid_time_zone_message_does_not_echo_mentions() -> None:
    with pytest.raises(InvalidInput) as info:
        resolve("@everyone **now**")
    assert "@everyone" not in info.value.message
    assert "**now**" not in info.value.message


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=40))
def test_resolve_either_returns_a_zone_or_raises_invalid_input(name: str) -> None:
    try:
        zone = resolve(name)
    except InvalidInput as exc:
        assert "is not an IANA time zone" in exc.message
    else:
        assert zone in all_zones()


# -- text.clean / text.quote ------------------------------------------------------------------------------
def test_clean_strips_zero_width_and_control_characters_and_folds_whitespace() -> None:
    assert clean("he\u200bl\u200dlo\ufeff") == "hello"
    assert clean("a\x00b\x1bc\u202ed\u2066e") == "a b cd e"  # bidi override removed, other controls -> space
    assert clean("  lots \n\t of   space  ") == "lots of space"


def test_clean_caps_the_length_with_an_ellipsis() -> None:
    assert clean("x" * 10, limit=10) == "x" * 10
    assert clean("x" * 11, limit=10) == "x" * 9 + "…"


def test_quote_escapes_everyone_and_here() -> None:
    out = quote("hey @everyone and @here")
    assert "@everyone" not in out and "@here" not in out
    assert out.replace("\u200b", "") == "hey @everyone and @here"


def test_quote_escapes_everyone_hidden_behind_a_zero_width_character() -> None:
    out = quote("@\u200beveryone")  # looks harmless, but clean() removes the zero-width space
    assert "@everyone" not in out


@pytest.mark.parametrize(
    "mention",
    ["<@&123>", "<@123>", "<@!123>", "<@&123456789012345678>", "<@123456789012345678>"],
)
def test_quote_escapes_user_and_role_mentions(mention: str) -> None:
    out = quote(f"ping {mention}")
    assert mention not in out
    # "<" and ">" are escaped too (Discord shows them as typed), and the "@" is broken by a zero-width space.
    assert out == "ping \\" + mention.replace("@", "@\u200b")[:-1] + "\\>"


def test_quote_escapes_markdown() -> None:
    out = quote("**bold** _it_ `code` ||spoiler|| ~~gone~~")
    for raw in ("**bold**", "_it_", "`code`", "||spoiler||", "~~gone~~"):
        assert raw not in out
    assert out.replace("\\", "") == "**bold** _it_ `code` ||spoiler|| ~~gone~~"


def test_quote_caps_length_and_marks_empty_text() -> None:
    assert quote("y" * 500, limit=20) == "y" * 19 + "…"
    assert quote("") == "(empty)"
    assert quote("\u200b\u200b  \x00") == "(empty)"


def _would_ping(text: str) -> bool:
    return "@everyone" in text or "@here" in text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=5),
            st.sampled_from(["@", "everyone", "here", "<@&", ">", "\u200b", "\u2060", "\ufeff", "*", "_", "|", "\n"]),
        ),
        max_size=40,
    ).map("".join),
    st.integers(min_value=1, max_value=120),
)
def test_quote_output_is_inert_clean_and_bounded(text: str, limit: int) -> None:
    out = quote(text, limit)
    assert not _would_ping(out)
    # The only invisible character allowed is the zero-width space quote() puts after an '@'.
    visible = out.replace("@\u200b", "@")
    assert not any(unicodedata.category(ch).startswith("C") for ch in visible)
    # Escaping at most triples the (already capped) text (a backslash per character; inside a URL,
    # markdown characters are percent-encoded instead).
    assert len(clean(text, limit)) <= limit
    assert len(out) <= max(3 * limit, len("(empty)"))


MARKDOWNISH = st.lists(
    st.sampled_from(list("ab1 \t\n.-+#@*_~`|<>[]\\:/é\u200b") + ["http://x.y", "https://", "12."]), max_size=20
).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(MARKDOWNISH, st.text(max_size=40)))
def test_escape_skips_only_texts_with_nothing_to_escape(text: str) -> None:
    """escape's fast path (a text none of its patterns acts on is returned as it is) gives what the
    full escaping gives, for texts made of exactly the characters that matter."""
    import bot.text

    full = bot.text._NEEDS_WORK
    try:
        bot.text._NEEDS_WORK = re.compile(r"(?s).|^")  # every text takes the full path
        slow = bot.text.escape(text)
    finally:
        bot.text._NEEDS_WORK = full
    assert bot.text.escape(text) == slow
