"""Issue "Hardening", items 1–3: spoiler cuts, embeds over Discord's limits, double escaping.

Each test failed before the fix; tests/unit/test_ui_limits.py closes the classes of problem.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.answers import RecapAnswer
from bot.storage.community import CommunityRecap
from bot.text import quote
from bot.ui.community import recap_lines, review_card
from bot.ui.lookups import recap_reply
from tests.discord_text import embed_problems, read
from tests.unit.packs import good_lookups

MOONLIT = good_lookups().catalog.dramas["moonlit-orchard"]
EPISODE = MOONLIT.episode(1)
assert EPISODE is not None


def recap(
    id_: int = 1, *, title: str = "A title", body: str = "Text.", author: str = "alice", state: str = "approved"
) -> CommunityRecap:
    return CommunityRecap(id_, 1, "moonlit-orchard", 1, 100 + id_, author, title, body, state, None)


def answer(**kw: Any) -> RecapAnswer:
    return RecapAnswer(drama=MOONLIT, episode=EPISODE, guessed_from=None, aired=True, **kw)


def field(embed: discord.Embed, name: str) -> str:
    return next(str(f.value) for f in embed.fields if f.name == name)


# -- 1. the "Community recaps" field was cut inside ||…||, showing the rest of a recap in plain text ---------------
def test_community_recaps_field_is_never_cut_inside_a_spoiler() -> None:
    body = " ".join(["SECRET plot word"] * 20)
    recaps = [recap(i, title="T_" * 40, body=body, author="a" * 40) for i in range(3)]
    _, embed = recap_reply(answer(community=recaps))
    value = field(embed, "Community recaps")
    seen = read(value)
    assert len(value) <= 1024
    assert seen.balanced, value
    assert "SECRET" not in seen.plain, value
    assert all("SECRET" in hidden for hidden in seen.hidden)
    assert value.count("||") == 6  # all three recaps are shown, each behind its own bars


# -- 2. embeds over Discord's limits --------------------------------------------------------------------------------
def test_review_card_of_a_maximum_recap_of_stars_fits_discord() -> None:
    embed, _ = review_card(recap(body="*" * 4000, state="pending"), MOONLIT, 1)
    assert embed_problems([embed.to_dict()]) == []  # was: a description of 11,972 characters
    seen = read(embed.description or "")
    assert seen.balanced and seen.plain == "" and seen.hidden[0].startswith("*" * 100)


def test_recap_links_field_is_capped_and_says_how_many_more() -> None:
    links = [
        (
            f"Queen of Tears episode 6 recap: an ordinary headline, number {i}",
            f"https://recaps.example.org/2026/11/queen-of-tears-episode-6-recap-number-{i}",
            "recaps.example.org",
        )
        for i in range(10)
    ]
    _, embed = recap_reply(answer(links=links))
    value = field(embed, "Recaps")
    assert len(value) <= 1024  # was: every link joined, 1,600 characters, and a 400 from Discord
    shown = value.count("](https://")
    assert 0 < shown < 10
    assert value.endswith(f"… and {10 - shown} more")


# -- 3. text escaped twice -----------------------------------------------------------------------------------------
def test_review_card_escapes_a_recap_exactly_once() -> None:
    text = "don't *cry* over snake_case"
    embed, _ = review_card(recap(body=text, state="pending"), MOONLIT, 1)
    assert embed.description == "||don't \\*cry\\* over snake\\_case||"  # was: don't \\*cry\\* over snake\\_case
    assert read(embed.description).hidden == [text]


def test_community_recap_lines_escape_exactly_once() -> None:
    text = "don't *cry* over snake_case"
    (line,) = recap_lines([recap(title="snake_case *title*", body=text)])
    seen = read(line)
    assert seen.hidden == [text] and seen.raw == []
    assert "snake_case *title* by alice" in seen.plain


def test_user_backslashes_survive_escaping() -> None:
    for text in ("C:\\new\\*folder*", "a \\| b", "ends with \\", "\\\\*x*"):
        assert read(quote(text, 100)).plain == text
        (line,) = recap_lines([recap(body=text)])
        assert read(line).hidden == [text]
