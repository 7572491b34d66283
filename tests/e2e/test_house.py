"""The house rules, end to end: extensions reload while the bot runs, and a stale command is told so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.errors import OUT_OF_DATE
from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver, checked_sandbox, text_of
from tests.e2e.feedserver import FeedServer

SATURDAY = datetime(2024, 3, 23, 11, 0, tzinfo=UTC)  # Queen of Tears episode 5 airs this evening (KST)


@pytest.fixture
async def sb(tmp_path) -> AsyncIterator[Sandbox]:
    async with checked_sandbox(tmp_path, SATURDAY) as sandbox:
        yield sandbox


def in_channel(sb: Sandbox, name: str) -> list[dict]:
    return sb.world.messages[int(sb.world.channel_by_name(name)["id"])]


async def test_every_extension_reloads_while_running_and_every_feature_keeps_working(
    sb: Sandbox, feeds: FeedServer
) -> None:
    drive = Driver(sb)
    await drive.as_("mod")
    for kind, channel in [("discussions", "#discussions"), ("mods", "#mods"), ("announcements", "#general")]:
        await drive.reply(f"/settings channel kind:{kind} channel:{channel}")
    await drive.reply("/follow add drama:queen-of-tears")
    scheduled = await drive.reply(
        '/watchparty schedule drama:queen-of-tears episodes:5 start:"2024-03-23 23:00" timezone:Asia/Seoul '
        "reminders:10m"
    )
    assert "Watch party #1 scheduled" in scheduled["content"]
    feeds.add("beans", "Queen of Tears: Episode 4", summary="Old news.")
    assert "Added feed #1" in (await drive.reply(f"/feeds add url:{feeds.url('beans')} channel:#recaps"))["content"]

    bot = sb.bot
    services_before = bot.services
    names = sorted(bot.extensions)
    assert "cogs.lookups" in names and "cogs.watchparty" in names and "cogs.feeds" in names
    for name in names:
        await bot.reload_extension(name)
    assert sorted(bot.extensions) == names
    assert bot.services == services_before  # reloading a cog neither recreates nor restarts a service

    # A command of each feature, after the reload.
    for line, needle in [
        ("/help", "/recap"),
        ("/recap drama:queen-of-tears episode:4", "Episode 4"),
        ("/who name:hong-hae-in", "Kim Ji-won"),
        ("/drama drama:queen-of-tears", "Queen of Tears"),
        ("/progress show", "progress"),
        ("/follow list", "Queen of Tears"),
        ("/airing", "Queen of Tears"),
        ("/watchparty list", "#1"),
        ("/feeds list", "#1"),
        ("/recaps review", "No recaps waiting"),
        ("/settings show", "discussions"),
    ]:
        response = await drive.reply(line)
        assert needle.casefold() in text_of(response).casefold(), (line, text_of(response))
    await drive.reply("/probe-remind minutes:5 n:7")  # the test extension's own job kind, re-registered

    # A scheduled job of each feature, after the reload.
    feeds.add("beans", "Queen of Tears: Episode 5", summary="New recap.")
    await drive.ok(":advance 12h")
    assert any("Episode 5" in t["name"] for t in sb.world.threads()), "the episode thread did not open"
    assert any(m["content"].startswith("⏰") for m in in_channel(sb, "general")), "no watch party reminder"
    assert any("is starting now" in m["content"] for m in in_channel(sb, "general")), "no starting-now post"
    assert [m["embeds"][0]["title"] for m in in_channel(sb, "recaps")] == ["Queen of Tears: Episode 5"]
    assert any(m["content"].startswith("Reminder 7") for m in in_channel(sb, "general"))


async def test_a_command_discord_still_shows_but_the_bot_no_longer_has_says_it_is_out_of_date(sb: Sandbox) -> None:
    drive = Driver(sb)
    await sb.bot.unload_extension("cogs.progress")  # as after an upgrade that dropped a command, before `sync`
    response = await drive.reply("/progress show")
    assert response["content"] == OUT_OF_DATE and response["ephemeral"] is True
    assert "error id" not in response["content"]
    assert sb.errors == []
