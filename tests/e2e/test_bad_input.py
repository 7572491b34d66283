"""Generated option strings through the sandbox: never an unhandled error, never a ping."""

from __future__ import annotations

import re
import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.harness import Sandbox

NASTY = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=50),
    st.sampled_from(
        [
            "",
            " ",
            "@everyone",
            "@here",
            "<@&1100000000000000012>",
            "<@1100000000000000101>",
            "**bold** __u__ ~~s~~ `code` ||spoiler||",
            "\u200b@\u200beveryone",
            "a" * 6000,
            "Asia/Seoul\u200b",
            "../../etc/passwd",
            "'; DROP TABLE guild_settings; --",
        ]
    ),
    st.builds(lambda a, b: a + "@everyone" + b, st.text(max_size=20), st.text(max_size=20)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NASTY)
async def test_timezone_option_never_breaks_or_pings(sandbox: Sandbox, value: str) -> None:
    await sandbox.run_line(":as mod")
    result = await sandbox.run_command("settings timezone", name=value)
    if result["error"] and ("at least" in result["error"] or "at most" in result["error"]):
        return  # Discord's client refuses it before sending (1..64 characters), as the sandbox does
    assert result["error"] is None, result["error"]
    response = result["response"]
    assert response["ephemeral"]
    content = response["content"]
    assert "@everyone" not in content.replace("@\u200beveryone", "")
    assert "@here" not in content.replace("@\u200bhere", "")
    assert "<@&" not in content.replace("<@&\u200b", "")
    for request in result["requests"]:
        assert request["json"]["data"]["allowed_mentions"] == {"parse": []}
    # Either it was accepted as a real zone, or the setting is unchanged.
    repo = sandbox.bot.server_settings
    stored = (await repo.get(sandbox.world.guild_id)).timezone
    assert stored == "UTC" or f"`{stored}`" in content
    await repo.update(sandbox.world.guild_id, timezone=None)  # the next example starts from the default


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NASTY)
async def test_timezone_autocomplete_stays_within_discord_limits(sandbox: Sandbox, value: str) -> None:
    await sandbox.run_line(":as mod")
    if len(value) > 64:
        value = value[:64]
    choices = await sandbox.autocomplete("/settings timezone name:" + shlex.quote(value))
    assert len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100 and 1 <= len(choice["value"]) <= 100


MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>")


def assert_no_ping(result: dict) -> None:
    """Nothing the bot wrote could ping: no raw @everyone/@here/role or user mention from user text,
    and every message-bearing request disables mentions."""
    response = result["response"] or {}
    texts = [response.get("content") or ""]
    for embed in response.get("embeds") or []:
        texts.append(str(embed))
    for text in texts:
        assert not MENTION.search(text), text
    for request in result["requests"]:
        payload = (request["json"] or {}).get("data", request["json"]) or {}
        if isinstance(payload, dict) and ("content" in payload or "embeds" in payload):
            assert payload.get("allowed_mentions") == {"parse": []}


LOOKUP_COMMANDS = [
    ("recap", "drama", {"episode": "3"}),
    ("who", "name", {}),
    ("who", "drama", {"name": "haein"}),
    ("drama", "drama", {}),
    ("progress set", "drama", {"episode": "3"}),
    ("progress clear", "drama", {}),
    ("discuss", "drama", {"episode": "2"}),
    ("follow add", "drama", {}),
    ("follow remove", "drama", {}),
]


@pytest.mark.parametrize(("path", "option", "others"), LOOKUP_COMMANDS, ids=lambda v: str(v))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NASTY)
async def test_lookup_options_never_break_or_ping(
    sandbox: Sandbox, path: str, option: str, others: dict, value: str
) -> None:
    await sandbox.run_line(":as mod")
    result = await sandbox.run_command(path, **{option: value}, **others)
    if result["error"] and ("at least" in result["error"] or "at most" in result["error"]):
        return  # refused by Discord's client before sending (length limits), as the sandbox does
    assert result["error"] is None, result["error"]
    assert result["response"] is not None
    assert_no_ping(result)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(episode=st.integers(min_value=-5, max_value=20000))
async def test_recap_any_episode_number(sandbox: Sandbox, episode: int) -> None:
    result = await sandbox.run_command("recap", drama="queen-of-tears", episode=str(episode))
    if not 1 <= episode <= 9999:
        assert result["error"] and ("at least" in result["error"] or "at most" in result["error"])
        return
    assert result["error"] is None
    response = result["response"]
    if episode > 16:
        assert response["ephemeral"] and "1–16" in response["content"]
    else:
        assert response["embeds"][0]["title"].endswith(f"Episode {episode}")


@pytest.mark.parametrize("line", ["/recap drama:", "/who name:", "/drama drama:", "/who name:haein drama:"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NASTY)
async def test_lookup_autocomplete_stays_within_limits(sandbox: Sandbox, line: str, value: str) -> None:
    choices = await sandbox.autocomplete(line + shlex.quote(value[:100]))
    assert len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100 and 1 <= len(str(choice["value"])) <= 100
