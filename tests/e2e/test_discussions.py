"""Episode threads through the sandbox: opened at air time, exactly once, with links, index and ratings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver, checked_sandbox, shipped, text_of

BEFORE_EP5 = datetime(2024, 3, 23, 11, 0, tzinfo=UTC)  # episode 5 airs 12:10 UTC (21:10 KST)


@pytest.fixture
async def qot(tmp_path) -> AsyncIterator[Sandbox]:
    async with checked_sandbox(tmp_path, BEFORE_EP5) as sb:
        yield sb


async def setup_follow(sb: Sandbox, channel: str = "#discussions") -> Driver:
    drive = Driver(sb)
    await drive.as_("mod")
    await drive.reply(f"/settings channel kind:discussions channel:{channel}")
    await drive.reply("/settings channel kind:mods channel:#mods")
    followed = await drive.reply("/follow add drama:queen-of-tears")
    assert "Following **Queen of Tears**" in followed["content"]
    return drive


def threads(sb: Sandbox, episode: int) -> list[dict]:
    name = f"Queen of Tears · Episode {episode} · spoilers"
    return [t for t in sb.world.threads() if t["name"] == name]


def warnings(sb: Sandbox) -> list[dict]:
    """The moderators' channel without the settings log (⚙️ lines)."""
    mods = sb.world.messages[int(sb.world.channel_by_name("mods")["id"])]
    return [m for m in mods if not m["content"].startswith("⚙️")]


def starter(sb: Sandbox, thread: dict) -> dict:
    return sb.world.messages[int(thread["id"])][0]


async def test_thread_opens_at_air_time_links_neighbours_and_index(qot: Sandbox) -> None:
    drive = await setup_follow(qot)
    assert threads(qot, 5) == []
    await drive.ok(":advance 2h")
    (ep5,) = threads(qot, 5)
    first = starter(qot, ep5)
    synopsis = shipped().dramas["queen-of-tears"].episode(5).synopsis
    assert first["embeds"][0]["description"] == f"||{synopsis}||"
    labels = [c["label"] for row in first["components"] for c in row["components"]]
    assert labels == ["1 ★", "2 ★", "3 ★", "4 ★", "5 ★"]
    assert "Episode" in ep5["name"] and synopsis[:20] not in ep5["name"]  # no plot in the name

    await drive.ok(":advance 1d")
    (ep6,) = threads(qot, 6)
    assert f"◀ Episode 5: <#{ep5['id']}>" in text_of(starter(qot, ep6))
    assert f"Episode 6 ▶: <#{ep6['id']}>" in text_of(starter(qot, ep5))  # the older one was edited to link

    channel = qot.world.channel_by_name("discussions")
    messages = qot.world.messages[int(channel["id"])]
    (index,) = [m for m in messages if m["content"].startswith("**Queen of Tears — episode threads**")]
    assert index["pinned"]
    assert f"<#{ep5['id']}>" in index["content"] and f"<#{ep6['id']}>" in index["content"]
    announcements = [m for m in messages if "has aired" in m["content"]]
    assert len(announcements) == 2 and all(synopsis[:20] not in m["content"] for m in announcements)

    linked = await drive.reply("/discuss drama:queen-of-tears episode:6")
    assert f"<#{ep6['id']}>" in linked["content"]
    assert len(threads(qot, 6)) == 1

    recap = await drive.reply("/recap queen-of-tears 6")
    assert f"<#{ep6['id']}>" in text_of(recap) and recap["embeds"][0]["description"].startswith("||")
    overview = await drive.reply("/drama queen-of-tears")
    assert f"· <#{ep5['id']}>" in text_of(overview) and f"· <#{ep6['id']}>" in text_of(overview)
    await drive.ok(f":in thread {ep6['name']}")
    inside = await drive.reply("/recap queen-of-tears 6")  # in the episode's own thread: plain
    synopsis6 = shipped().dramas["queen-of-tears"].episode(6).synopsis
    assert inside["embeds"][0]["description"] == synopsis6


async def test_forum_channel_gets_tagged_posts(qot: Sandbox) -> None:
    drive = await setup_follow(qot, "#episode-forum")
    await drive.ok(":advance 2h")
    await drive.ok(":advance 1d")
    forum = qot.world.channel_by_name("episode-forum")
    tags = {t["id"]: t["name"] for t in forum["available_tags"]}
    (ep5,) = threads(qot, 5)
    (ep6,) = threads(qot, 6)
    assert ep5["parent_id"] == forum["id"]
    assert sorted(tags[t] for t in ep5["applied_tags"]) == ["Episode 5", "Queen of Tears"]
    assert sorted(tags[t] for t in ep6["applied_tags"]) == ["Episode 6", "Queen of Tears"]
    assert f"◀ Episode 5: <#{ep5['id']}>" in text_of(starter(qot, ep6))
    (index,) = [t for t in qot.world.threads() if t["name"] == "Queen of Tears · all episodes"]
    assert index["flags"] & 2  # pinned post
    assert f"<#{ep6['id']}>" in qot.world.messages[int(index["id"])][0]["content"]
    linked = await drive.reply("/discuss queen-of-tears 5")
    assert f"<#{ep5['id']}>" in linked["content"]


async def test_ten_concurrent_discuss_make_one_thread(qot: Sandbox) -> None:
    drive = Driver(qot)
    await drive.as_("mod")
    await drive.reply("/settings channel kind:discussions channel:#discussions")
    qot.clock.set(datetime(2024, 4, 1, tzinfo=UTC))  # episodes 1–8 have aired; nothing is followed
    from bot.sandbox.lines import CommandParser

    parsed = CommandParser(qot.world, qot.user_id).parse("/discuss drama:queen-of-tears episode:3")
    records = await asyncio.gather(*(qot.interact(2, parsed.data) for _ in range(10)))
    assert len(threads(qot, 3)) == 1
    thread_id = threads(qot, 3)[0]["id"]
    for record in records:
        shown = (record.original or {}).get("content", "")
        assert f"<#{thread_id}>" in shown


async def test_bot_down_at_air_time_opens_one_thread_on_restart(qot: Sandbox) -> None:
    await setup_follow(qot)
    await qot.stop_bot()
    qot.clock.advance(timedelta(hours=3))  # episode 5 aired while the bot was down
    await qot.start_bot()
    await qot.run_line(":advance 1m")
    assert len(threads(qot, 5)) == 1
    await qot.restart_bot()  # and a restart after that changes nothing
    await qot.run_line(":advance 1m")
    assert len(threads(qot, 5)) == 1


async def test_crash_after_the_thread_was_created_adopts_it(qot: Sandbox) -> None:
    drive = await setup_follow(qot)
    # The thread gets created, then posting in it fails (as if the bot died right there).
    await drive.ok(":fail POST /channels/*/messages 403 1")
    await drive.ok(":advance 1h11m")  # just past the air time (12:10 UTC); the retry is due 15 min later
    assert len(threads(qot, 5)) == 1 and qot.world.messages[int(threads(qot, 5)[0]["id"])] == []
    await qot.restart_bot()
    await drive.ok(":advance 20m")  # the job's retry
    (ep5,) = threads(qot, 5)
    assert len(qot.world.messages[int(ep5["id"])]) == 1  # starter posted into the same thread


async def test_missing_permission_tells_mods_and_retries_until_lifted(qot: Sandbox) -> None:
    drive = await setup_follow(qot)
    await drive.ok(":fail POST /channels/*/threads 403")
    await drive.ok(":advance 2h")
    assert threads(qot, 5) == []
    mods = warnings(qot)
    assert len(mods) == 1
    assert "Create Public Threads" in mods[0]["content"] and "episode 5" in mods[0]["content"]
    await drive.ok(":advance 20m")  # still failing: retried, moderators not spammed
    assert threads(qot, 5) == [] and len(warnings(qot)) == 1
    await drive.ok(":fail clear")
    await drive.ok(":advance 20m")
    assert len(threads(qot, 5)) == 1


async def test_rating_changed_twice_counts_once(qot: Sandbox) -> None:
    drive = await setup_follow(qot)
    await drive.ok(":advance 2h")
    await drive.as_("member")
    first = await drive.ok(":click 5 ★")
    assert "5.0 ★ (1 vote)" in text_of(first["response"])
    assert first["followups"][0]["ephemeral"]
    await drive.ok(":click 2 ★")
    third = await drive.ok(":click 4 ★")
    assert "4.0 ★ (1 vote)" in text_of(third["response"])
    await drive.as_("admin")
    after_restart = await qot.restart_bot()
    assert after_restart.is_ready()
    voted = await drive.ok(":click 2 ★")  # buttons keep working after a restart
    assert "3.0 ★ (2 votes)" in text_of(voted["response"])
    channel = qot.world.channel_by_name("discussions")
    index = next(m for m in qot.world.messages[int(channel["id"])] if m["pinned"])
    assert "3.0 ★ (2)" in index["content"]


async def test_deleted_thread_is_reopened_and_index_corrected(qot: Sandbox) -> None:
    drive = await setup_follow(qot)
    await drive.ok(":advance 2h")
    (old,) = threads(qot, 5)
    await qot.delete_channel(int(old["id"]))
    reopened = await drive.reply("/discuss queen-of-tears 5")
    (new,) = threads(qot, 5)
    assert new["id"] != old["id"] and f"<#{new['id']}>" in reopened["content"]
    channel = qot.world.channel_by_name("discussions")
    index = next(m for m in qot.world.messages[int(channel["id"])] if m["pinned"])
    assert f"<#{new['id']}>" in index["content"] and f"<#{old['id']}>" not in index["content"]


async def test_discuss_before_air_and_member_rules(qot: Sandbox) -> None:
    drive = Driver(qot)
    early = await drive.reply("/discuss queen-of-tears 9")
    assert early["ephemeral"] and "airs <t:" in early["content"]
    nothing = await drive.reply("/discuss queen-of-tears 1")
    assert "No discussions channel" in nothing["content"]
    await drive.as_("mod")
    await drive.reply("/settings channel kind:discussions channel:#discussions")
    await drive.reply("/settings threads members_can_open:false")
    await drive.as_("member")
    refused = await drive.reply("/discuss queen-of-tears 1")
    assert "only moderators open them" in refused["content"] and threads(qot, 1) == []
    await drive.as_("mod")
    opened = await drive.reply("/discuss queen-of-tears 1")
    assert opened["content"].startswith("Opened the thread") and len(threads(qot, 1)) == 1


async def test_airing_lists_upcoming_followed_episodes(qot: Sandbox) -> None:
    drive = Driver(qot)
    assert "follows no drama" in (await drive.reply("/airing"))["content"]
    await setup_follow(qot)
    await drive.as_("member")
    listed = await drive.reply("/airing days:2")
    assert "**Queen of Tears** episode 5" in listed["content"] and "episode 6" in listed["content"]
    assert "episode 7" not in listed["content"]
    assert "<t:1711195800:F>" in listed["content"]


async def test_unfollow_cancels_future_openings(qot: Sandbox) -> None:
    drive = await setup_follow(qot)
    removed = await drive.reply("/follow remove queen-of-tears")
    assert "Stopped following" in removed["content"]
    await drive.ok(":advance 2d")
    assert threads(qot, 5) == [] and threads(qot, 6) == []
    listed = await drive.reply("/follow list")
    assert "follows no drama" in listed["content"]


def said(result: dict) -> str:
    """What the asker reads: the (deferred, then edited) response and any follow-ups."""
    return "\n".join([result["response"]["content"] or ""] + [f["content"] or "" for f in result["followups"]])


async def test_discuss_of_an_old_episode_opens_quietly_and_members_are_rate_limited(tmp_path) -> None:
    three_years_later = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
    async with checked_sandbox(tmp_path, three_years_later) as sb:
        drive = Driver(sb)
        await drive.as_("mod")
        await drive.reply("/settings channel kind:discussions channel:#discussions")
        await drive.reply("/settings channel kind:announcements channel:#general")
        opened = await drive.ok("/discuss queen-of-tears 7")
        assert opened["response"]["ephemeral"] and "Opened the thread" in said(opened)
        assert len(threads(sb, 7)) == 1
        general = sb.world.messages[int(sb.world.channel_by_name("general")["id"])]
        assert [m for m in general if "has aired" in m["content"]] == []  # no announcement for an old episode
        again = await drive.ok("/discuss queen-of-tears 7")
        assert "is discussed in" in again["response"]["content"] and len(threads(sb, 7)) == 1

        await drive.as_("member")
        for episode in (1, 2, 3):
            result = await drive.ok(f"/discuss queen-of-tears {episode}")
            assert "Opened the thread" in said(result), episode
        slow = await drive.reply("/discuss queen-of-tears 4")
        assert slow["ephemeral"] and "open another one in" in slow["content"]
        assert threads(sb, 4) == []
        await drive.ok(":advance 11m")
        assert "Opened the thread" in said(await drive.ok("/discuss queen-of-tears 4"))
        assert len(threads(sb, 4)) == 1
