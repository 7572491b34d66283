"""The live catalog through the sandbox, against the shipped TVmaze fixture (invented shows):
add a drama from Discord and use it at once; refreshes move threads and tell the moderators."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox.harness import Sandbox
from bot.sandbox.tvmaze import SEOUL
from tests.e2e.conftest import Driver, checked_sandbox, text_of

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Seoul
COURIER = 990001  # "Moonlight Courier" (2026), airing Wednesdays and Thursdays at 21:00 KST


@pytest.fixture
async def sb(tmp_path) -> AsyncIterator[Sandbox]:
    async with checked_sandbox(tmp_path, NOW) as sandbox:
        yield sandbox


async def add_courier(drive: Driver) -> dict[str, Any]:
    await drive.as_("mod")
    listed = await drive.reply('/catalog add query:"moonlight courier"')
    labels = [o["label"] for row in listed["components"] for c in row["components"] for o in c.get("options", [])]
    assert labels == ["Moonlight Courier (2026)", "Moonlight Courier (2019)"]  # a pick list, never a silent guess
    picked = await drive.ok(":pick Moonlight Courier (2026)")
    return picked


def last_text(result: dict[str, Any]) -> str:
    parts = [text_of(result["response"] or {})] + [text_of(f) for f in result.get("followups") or []]
    return "\n".join(parts)


def threads(sb: Sandbox, episode: int) -> list[dict[str, Any]]:
    return [t for t in sb.world.threads() if t["name"] == f"Moonlight Courier · Episode {episode} · spoilers"]


async def test_a_moderator_adds_a_drama_from_discord_and_everything_sees_it_at_once(sb: Sandbox) -> None:
    drive = Driver(sb)
    await drive.as_("member")
    refused = await drive.reply('/catalog add query:"moonlight courier"')
    assert "for moderators" in refused["content"] and sb.tvmaze is not None and sb.tvmaze.requests == []

    picked = await add_courier(drive)
    assert "Added **Moonlight Courier**" in last_text(picked)

    overview = text_of(await drive.reply("/drama drama:moonlight-courier"))
    assert "Moonlight Courier" in overview and "Episodes (12)" in overview
    recap = await drive.reply("/recap drama:moonlight-courier episode:1")  # aired two weeks ago
    assert "Moonlight Courier · Episode 1" in text_of(recap)
    who = text_of(await drive.reply('/who name:"Han Seo-yun"'))
    assert "Baek Dal-im" in who
    choices = (await drive.ok(":type /recap drama:moonl"))["result"]["choices"]
    assert any(c["value"] == "moonlight-courier" for c in choices)
    followed = await drive.reply("/follow add drama:moonlight-courier")
    assert "Following **Moonlight Courier**" in followed["content"]

    again = await drive.reply('/catalog add query:"moonlight courier"')
    assert again["components"]  # the list still offers it; picking it says where it is
    repeat = await drive.ok(":pick Moonlight Courier (2026)")
    assert "already in the catalog" in last_text(repeat)
    assert len([d for d in sb.bot.catalog.dramas if d.startswith("moonlight-courier")]) == 1


async def test_a_refresh_moves_the_thread_opening_and_tells_the_moderators(sb: Sandbox) -> None:
    drive = Driver(sb)
    await add_courier(drive)
    await drive.reply("/settings channel kind:discussions channel:#discussions")
    await drive.reply("/settings channel kind:mods channel:#mods")
    await drive.reply("/follow add drama:moonlight-courier")
    assert sb.tvmaze is not None
    show = sb.tvmaze.shows[COURIER]
    fifth = next(e for e in show["episodes"] if e["number"] == 5)
    old = datetime.fromisoformat(fifth["airstamp"])
    new = old + timedelta(hours=1, minutes=30)  # episode 5 moves to 22:30 (a broadcast change)
    fifth["airstamp"] = new.isoformat()
    fifth["airdate"] = new.astimezone(SEOUL).date().isoformat()
    extra = dict(show["episodes"][-1])
    last = datetime.fromisoformat(extra["airstamp"]) + timedelta(days=6)
    extra.update(
        id=extra["id"] + 1, number=13, airstamp=last.isoformat(), airdate=last.astimezone(SEOUL).date().isoformat()
    )
    show["episodes"].append(extra)  # and gains an episode 13
    sb.tvmaze.touch(COURIER)

    await drive.ok(f":advance {int((old - NOW).total_seconds() // 60) + 5}m")  # past the old air time
    assert threads(sb, 5) == []  # the opening moved with the episode
    mods = sb.world.messages[int(sb.world.channel_by_name("mods")["id"])]
    notices = [m["content"] for m in mods if "changed on TVmaze" in m["content"]]
    assert len(notices) == 1 and "Episode 5 moved" in notices[0] and f"<t:{int(new.timestamp())}:f>" in notices[0]
    overview = text_of(await drive.reply("/drama drama:moonlight-courier"))
    assert "Episodes (13)" in overview

    await drive.ok(":advance 1h30m")  # past the new air time
    assert len(threads(sb, 5)) == 1
    await drive.ok(":advance 1d")
    assert len(threads(sb, 5)) == 1  # once


async def test_a_bad_answer_from_tvmaze_changes_nothing(sb: Sandbox) -> None:
    drive = Driver(sb)
    await add_courier(drive)
    before = sb.bot.catalog.dramas["moonlight-courier"]
    assert sb.tvmaze is not None
    sb.tvmaze.shows[COURIER]["episodes"][0]["airstamp"] = "not a time"
    sb.tvmaze.touch(COURIER)
    refreshed = await drive.reply("/catalog refresh drama:moonlight-courier")
    assert "nothing was changed" in text_of(refreshed).casefold() or "nothing changed" in text_of(refreshed).casefold()
    assert sb.bot.catalog.dramas["moonlight-courier"] is before


async def test_two_concurrent_adds_of_one_show_give_one_drama(sb: Sandbox) -> None:
    drive = Driver(sb)
    await drive.as_("mod")
    guild = sb.world.guild_id
    results = await asyncio.gather(
        sb.bot.live_catalog.add(guild, 1, COURIER), sb.bot.live_catalog.add(guild, 2, COURIER), return_exceptions=True
    )
    added = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(added) == 1 and len(refused) == 1 and "catalog" in str(refused[0])
    assert [s for s in sb.bot.catalog.dramas if s.startswith("moonlight")] == ["moonlight-courier"]
    rows = await sb.bot.db.fetchall("SELECT slug FROM catalog_packs WHERE tvmaze_id = ?", (COURIER,))
    assert [r["slug"] for r in rows] == ["moonlight-courier"]


async def test_an_added_drama_survives_a_restart(tmp_path) -> None:
    async with checked_sandbox(tmp_path, NOW) as sb:
        drive = Driver(sb)
        await add_courier(drive)
        restarted = await drive.ok(":restart")
        assert restarted["error"] is None
        overview = text_of(await drive.reply("/drama drama:moonlight-courier"))
        assert re.search(r"Episodes \(12\)", overview)


async def test_a_drama_that_could_not_be_stored_is_nowhere(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that fails (a full disk) leaves memory as it was: not in the catalog, and — once
    another drama is added over it — not in the search index either (its whole rebuild is forced for
    the change that fails)."""
    import bot.live_catalog

    limit = bot.live_catalog.overlay_limit
    monkeypatch.setattr(bot.live_catalog, "overlay_limit", lambda dramas: -1)  # this change rebuilds the index
    live, guild = sb.bot.live_catalog, sb.world.guild_id
    save = live._repo.save

    async def full_disk(rows: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(live._repo, "save", full_disk)
    with pytest.raises(OSError):
        await live.add(guild, 1, COURIER)
    monkeypatch.setattr(live._repo, "save", save)
    monkeypatch.setattr(bot.live_catalog, "overlay_limit", limit)  # the next one is layered over that index
    await live.add(guild, 1, 990003)  # another show, stored
    catalog, index = sb.bot.catalog, sb.bot.lookups.index
    assert "moonlight-courier" not in catalog.dramas and len(catalog.dramas) == 5
    offered = [h.target[1] for h in index.dramas.complete("moonlight")] + [
        h.target[1] for h in index.dramas.complete("")
    ]
    assert offered and all(slug in catalog.dramas for slug in offered)
    answer = await Driver(sb).reply("/drama drama:moonlight-courier")
    assert "No drama named" in text_of(answer)


async def test_an_added_dramas_tvmaze_summary_is_shown_by_recap_after_a_restart(tmp_path) -> None:
    """TVmaze's episode summaries are held apart from the drama (bot/catalog/texts.py): `/recap` shows
    one at once after `/catalog add`, and again after a restart, credited to TVmaze."""
    async with checked_sandbox(tmp_path, NOW) as sb:
        assert sb.tvmaze is not None
        sb.tvmaze.shows[COURIER]["episodes"][0]["summary"] = "<p>A parcel for the <b>moon</b> arrives.</p>"
        drive = Driver(sb)
        await add_courier(drive)
        first = text_of(await drive.reply("/recap drama:moonlight-courier episode:1"))
        assert (await drive.ok(":restart"))["error"] is None
        after = text_of(await drive.reply("/recap drama:moonlight-courier episode:1"))
    for shown in (first, after):
        assert "A parcel for the moon arrives." in shown and "TVmaze" in shown, shown
