"""The bot against the strict sandbox: the places where Discord's undocumented-in-the-schema rules
used to break it (archived threads, Create Events, tag-required forums, the forum's one pinned post,
the short nonce window, long data, errors after a public defer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.permissions import INVITE_PERMISSIONS
from bot.sandbox.harness import Sandbox
from bot.sandbox.spec import embed_size
from bot.sandbox.world import PINNED_FLAG
from tests.e2e.conftest import Driver, checked_sandbox, text_of
from tests.e2e.feedserver import FeedServer
from tests.e2e.longdata import LONG_ALIAS, LONG_SLUG, LONG_TITLE, checked_long_sandbox

BEFORE_EP1 = datetime(2024, 3, 9, 11, 0, tzinfo=UTC)  # Queen of Tears ep 1 airs 12:10 UTC, ep 2 a day later
OLD_INVITE = discord.Permissions(2252134821252096)  # the README's integer before Create Events (Manage Events)
SCHEDULE = '/watchparty schedule drama:queen-of-tears episodes:1-2 start:"2026-11-28 20:00" timezone:Asia/Seoul'


@pytest.fixture
async def qot(tmp_path) -> AsyncIterator[Sandbox]:
    async with checked_sandbox(tmp_path, BEFORE_EP1) as sb:
        yield sb


def threads(sb: Sandbox, episode: int, title: str = "Queen of Tears") -> list[dict[str, Any]]:
    return [t for t in sb.world.threads() if t["name"] == f"{title} · Episode {episode} · spoilers"]


def channel_messages(sb: Sandbox, name: str) -> list[dict[str, Any]]:
    channel = sb.world.channel_by_name(name)
    assert channel is not None
    return sb.world.messages[int(channel["id"])]


async def follow(sb: Sandbox, channel: str = "#discussions", archive: str = "60") -> Driver:
    drive = Driver(sb)
    await drive.as_("mod")
    await drive.reply(f"/settings channel kind:discussions channel:{channel}")
    await drive.reply("/settings channel kind:mods channel:#mods")
    await drive.reply(f"/settings threads archive:{archive}")
    await drive.reply("/follow add drama:queen-of-tears")
    return drive


# -- archived threads ---------------------------------------------------------------------------------------------
async def test_episode_2_opens_after_episode_1s_thread_archived_with_links_and_index(qot: Sandbox) -> None:
    drive = await follow(qot)
    await drive.ok(":advance 2h")  # episode 1 opens at 12:10 UTC; its thread archives after an hour of quiet
    (ep1,) = threads(qot, 1)
    await drive.ok(":advance 23h")
    assert ep1["thread_metadata"]["archived"]  # before episode 2 airs
    await drive.ok(f":in thread {ep1['name']}")
    refused = await drive.line("/recap queen-of-tears 1")  # no commands in an archived thread
    assert refused["error"] and "archived" in refused["error"] and refused["requests"] == []
    await drive.ok(":in #general")
    opened = await drive.ok(":advance 1h")
    (ep2,) = threads(qot, 2)
    starter1 = qot.world.messages[int(ep1["id"])][0]
    assert f"Episode 2 ▶: <#{ep2['id']}>" in text_of(starter1)  # the archived thread's starter was edited
    patches = [(r["path"], r["json"]) for r in opened["requests"] if r["method"] == "PATCH"]
    assert (f"/channels/{ep1['id']}", {"archived": False}) in patches  # unarchived to edit…
    assert (f"/channels/{ep1['id']}", {"archived": True}) in patches  # …and archived again, as it was
    assert ep1["thread_metadata"]["archived"]
    (index,) = [m for m in channel_messages(qot, "discussions") if m["pinned"]]
    assert f"<#{ep1['id']}>" in index["content"] and f"<#{ep2['id']}>" in index["content"]


async def test_in_a_forum_the_archived_post_is_relinked_and_the_pinned_index_never_archives(qot: Sandbox) -> None:
    drive = await follow(qot, "#episode-forum")
    await drive.ok(":advance 2h")
    await drive.ok(":advance 1d")
    (ep1,), (ep2,) = threads(qot, 1), threads(qot, 2)
    assert f"Episode 2 ▶: <#{ep2['id']}>" in text_of(qot.world.messages[int(ep1["id"])][0])
    (index,) = [t for t in qot.world.threads() if t["name"] == "Queen of Tears · all episodes"]
    assert index["flags"] & PINNED_FLAG and not index["thread_metadata"]["archived"]
    assert f"<#{ep2['id']}>" in qot.world.messages[int(index["id"])][0]["content"]


async def test_a_locked_archived_thread_is_skipped_with_a_note_not_an_error(qot: Sandbox) -> None:
    drive = await follow(qot)
    await drive.ok(":advance 2h")
    (ep1,) = threads(qot, 1)
    ep1["thread_metadata"]["locked"] = True  # a moderator locked it
    await qot.set_role_permissions(
        "Dramawatch", discord.Permissions(INVITE_PERMISSIONS.value & ~discord.Permissions(manage_threads=True).value)
    )
    await drive.ok(":advance 1d")
    (ep2,) = threads(qot, 2)  # episode 2 opened all the same
    assert f"<#{ep2['id']}>" not in text_of(qot.world.messages[int(ep1["id"])][0])


# -- watch party events: Create Events ------------------------------------------------------------------------
async def test_a_watch_partys_event_needs_create_events_and_the_moderator_is_told(sandbox: Sandbox) -> None:
    drive = Driver(sandbox)
    await drive.as_("mod")
    await drive.reply("/settings channel kind:announcements channel:#general")
    done = await drive.ok(SCHEDULE)  # the bot has the invite's permissions
    (event,) = sandbox.world.events.values()
    assert event["creator_id"] == sandbox.world.bot_user["id"] and "⚠️" not in text_of(done["response"])

    await sandbox.set_role_permissions("Dramawatch", OLD_INVITE)  # invited before February 2026
    refused = await drive.ok(SCHEDULE.replace("episodes:1-2", "episodes:3"))
    note = text_of(refused["response"])
    assert "**Create Events**" in note and "Manage Events alone" in note
    assert len(sandbox.world.events) == 1
    statuses = [r.status for r in sandbox.server.requests if r.path.endswith("/scheduled-events")]
    assert statuses == [200, 403]
    shown = await drive.reply("/settings channel kind:announcements channel:#general")
    assert "Create Events" in shown["content"]  # the permission check names it too


# -- forums: tags required, one pinned post ----------------------------------------------------------------------
async def test_a_tag_required_forum_gets_tagged_episode_and_index_posts(qot: Sandbox) -> None:
    await qot.set_require_tag("#episode-forum")
    drive = await follow(qot, "#episode-forum")
    await drive.ok(":advance 2h")
    forum = qot.world.channel_by_name("episode-forum")
    tags = {t["id"]: t["name"] for t in forum["available_tags"]}
    (ep1,) = threads(qot, 1)
    (index,) = [t for t in qot.world.threads() if t["name"] == "Queen of Tears · all episodes"]
    assert sorted(tags[t] for t in ep1["applied_tags"]) == ["Episode 1", "Queen of Tears"]
    assert [tags[t] for t in index["applied_tags"]] == ["Queen of Tears"]


async def test_a_tag_required_forum_without_tags_or_manage_channels_tells_the_moderators(qot: Sandbox) -> None:
    await qot.set_require_tag("#episode-forum")
    await qot.set_role_permissions("Dramawatch", INVITE_PERMISSIONS)  # no Manage Channels: no new tags
    drive = await follow(qot, "#episode-forum")
    await drive.ok(":advance 2h")
    assert threads(qot, 1) == []
    mods = "\n".join(m["content"] for m in channel_messages(qot, "mods"))
    assert "only takes posts with a tag" in mods and "Manage Channels" in mods
    assert not [r for r in qot.server.requests if r.status == 400]  # never an untagged post sent to be refused
    await drive.as_("mod")
    told = await drive.reply("/discuss queen-of-tears 1")  # said at once, privately, before any defer
    assert told["ephemeral"] and "only takes posts with a tag" in text_of(told)


async def test_a_forum_pins_one_index_post_and_the_second_drama_goes_unpinned(tmp_path) -> None:
    async with checked_sandbox(tmp_path, datetime(2026, 11, 27, tzinfo=UTC)) as sb:
        drive = Driver(sb)
        await drive.as_("mod")
        await drive.reply("/settings channel kind:discussions channel:#episode-forum")
        await drive.reply("/discuss queen-of-tears 1")
        await drive.reply("/discuss crash-landing-on-you 1")
        indexes = [t for t in sb.world.threads() if t["name"].endswith("· all episodes")]
        assert len(indexes) == 2
        assert [bool(t["flags"] & PINNED_FLAG) for t in indexes] == [True, False]
        assert not [r for r in sb.server.requests if r.status == 400]  # no pin Discord would refuse (30047)


# -- exactly once after a long outage: the nonce window is minutes, a restart can come later ------------------
async def test_an_announcement_sent_but_unrecorded_is_not_sent_again_30_minutes_later(qot: Sandbox) -> None:
    drive = await follow(qot)
    threads_repo = qot.bot.discussions._threads
    real = threads_repo.set_messages

    async def crash_after_announcing(*args: Any, **kwargs: Any) -> None:
        if "announcement" in kwargs:
            raise RuntimeError("the process died here")
        await real(*args, **kwargs)

    threads_repo.set_messages = crash_after_announcing
    await drive.ok(":advance 1h11m")  # episode 1 airs: thread, starter, announcement … and no record of it
    await qot.stop_bot()
    qot.clock.advance(timedelta(minutes=30))  # far past Discord's nonce window
    await qot.start_bot()
    await drive.ok(":advance 1m")
    announcements = [m for m in channel_messages(qot, "discussions") if "has aired" in m["content"]]
    assert len(announcements) == 1
    row = await qot.bot.db.fetchone("SELECT announcement_id FROM episode_threads")
    assert row is not None and row["announcement_id"] == int(announcements[0]["id"])


async def test_a_feed_post_sent_but_unrecorded_is_not_sent_again_30_minutes_later(
    sandbox: Sandbox, feeds: FeedServer
) -> None:
    drive = Driver(sandbox)
    await drive.as_("mod")
    await drive.reply(f"/feeds add url:{feeds.url('beans')} channel:#recaps")
    feeds.add("beans", "Queen of Tears: Episode 3")
    repo = sandbox.bot.feeds._repo

    async def crash_after_posting(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process died here")

    repo.mark_sent = crash_after_posting
    await drive.line(":advance 15m")  # polled, claimed, posted … not recorded
    sandbox.errors.clear()  # the poll's crash was logged as an error, on purpose
    assert len(channel_messages(sandbox, "recaps")) == 1
    await sandbox.stop_bot()
    sandbox.clock.advance(timedelta(minutes=30))
    await sandbox.start_bot()
    await drive.ok(":advance 1m")  # the start-up recovery delivers what was left claimed
    assert len(channel_messages(sandbox, "recaps")) == 1
    rows = await sandbox.bot.db.fetchall("SELECT state, message_id FROM feed_items WHERE state != 'seen'")
    assert [(r["state"], r["message_id"]) for r in rows] == [
        ("sent", int(channel_messages(sandbox, "recaps")[0]["id"]))
    ]


async def test_a_party_start_post_sent_but_unrecorded_is_not_sent_again_30_minutes_later(sandbox: Sandbox) -> None:
    drive = Driver(sandbox)
    await drive.as_("mod")
    await drive.reply("/settings channel kind:announcements channel:#general")
    await drive.ok(SCHEDULE + " reminders:none")
    posts = sandbox.bot.watchparties._posts
    real = posts.sent

    async def crash_after_posting(party_id: int, kind: str, message_id: int) -> None:
        if kind == "start":
            raise RuntimeError("the process died here")
        await real(party_id, kind, message_id)

    posts.sent = crash_after_posting
    await drive.ok(":advance 35h")  # 11:00 UTC: "starting now" goes out, and is not recorded
    await sandbox.stop_bot()
    sandbox.clock.advance(timedelta(minutes=30))
    await sandbox.start_bot()
    await drive.ok(":advance 1m")  # the start job runs again
    starting = [m for m in channel_messages(sandbox, "general") if "is starting now" in m["content"]]
    assert len(starting) == 1
    row = await sandbox.bot.db.fetchone("SELECT message_id FROM party_posts WHERE kind = 'start'")
    assert row is not None and row["message_id"] == int(starting[0]["id"])


# -- errors after a public defer ---------------------------------------------------------------------------------
async def test_an_error_after_a_public_defer_stays_private(qot: Sandbox) -> None:
    qot.clock.set(datetime(2024, 3, 20, tzinfo=UTC))
    drive = Driver(qot)
    await drive.as_("mod")
    await drive.reply("/settings channel kind:discussions channel:#discussions")
    await drive.ok(":fail POST /channels/*/threads 403 1")
    result = await drive.ok("/discuss queen-of-tears 4")
    assert result["response"]["type"] == 5 and not result["response"]["ephemeral"]
    assert "Create Public Threads" not in result["response"]["content"]  # the public message says little
    (reason,) = result["followups"]
    assert reason["ephemeral"] and "Create Public Threads" in reason["content"]


# -- long data ---------------------------------------------------------------------------------------------------
async def test_long_slugs_titles_and_episode_names_stay_within_discords_limits(tmp_path, feeds: FeedServer) -> None:
    async with checked_long_sandbox(tmp_path) as sb:
        drive = Driver(sb)
        await drive.as_("mod")
        await drive.reply("/settings channel kind:discussions channel:#discussions")
        await drive.reply("/settings channel kind:announcements channel:#general")
        await drive.reply(f"/follow add drama:{LONG_SLUG}")
        choices = (await drive.ok(f":type /recap drama:{LONG_SLUG} episode:"))["result"]["choices"]
        assert len(choices) == 24 and all(len(c["name"]) <= 100 for c in choices)
        assert choices[0]["name"].startswith("Episode 1 · In which") and choices[0]["name"].endswith("2026-11-06")

        await drive.ok(":advance 12h")  # episode 7 airs at 12:00 UTC
        (thread,) = [t for t in sb.world.threads() if "Episode 7" in t["name"]]
        assert len(thread["name"]) <= 100
        starter = sb.world.messages[int(thread["id"])][0]
        ids = [c["custom_id"] for row in starter["components"] for c in row["components"]]
        assert len(ids) == 5 and all(len(i) <= 100 and LONG_SLUG not in i for i in ids)
        await drive.ok(f":in thread {thread['name']}")
        await drive.as_("member")
        voted = await drive.ok(":click 4 ★")  # the hashed id resolves back to the drama
        assert "4.0 ★ (1 vote)" in text_of(voted["response"])

        page = await drive.reply(f"/drama {LONG_SLUG}")
        page_ids = [c["custom_id"] for row in page["components"] for c in row["components"]]
        assert page_ids and len(set(page_ids)) == len(page_ids) and all(len(i) <= 100 for i in page_ids)
        turned = await drive.ok(":click Next ▶")
        assert turned["response"]["type"] == 7

        await drive.as_("mod")
        await drive.reply(f"/feeds add url:{feeds.url('palace')} channel:#recaps")
        for n in range(10):
            feeds.add("palace", f"{LONG_ALIAS}: Episode 6 — recap number {n + 1} of a very long week")
        await drive.ok(":advance 15m")
        recap = await drive.reply(f"/recap drama:{LONG_SLUG} episode:6")
        assert sum(embed_size(e) for e in recap["embeds"]) <= 6000

        for n in range(20):
            day = 1 + n
            await drive.ok(
                f'/watchparty schedule drama:{LONG_SLUG} episodes:7-8 start:"2026-12-{day:02d} 21:30" '
                f'timezone:Asia/Seoul note:"{LONG_TITLE}"'
            )
        listed = await drive.reply("/watchparty list")
        assert sum(embed_size(e) for e in listed["embeds"]) <= 6000
        party_choices = (await drive.ok(":type /watchparty cancel id:"))["result"]["choices"]
        assert party_choices and all(len(c["name"]) <= 100 for c in party_choices)


async def test_the_meta_lines_change_permissions_forum_flags_and_limits(sandbox: Sandbox) -> None:
    drive = Driver(sandbox)
    shown = await drive.ok(":perms @Dramawatch -create_events +manage_events")
    assert not discord.Permissions(int(shown["result"]["permissions"])).create_events
    overwrite = await drive.ok(":perms @Dramawatch in #recaps -send_messages")
    assert overwrite["result"]["overwrites"][0]["deny"] == str(discord.Permissions(send_messages=True).value)
    forum = await drive.ok(":forum #episode-forum require_tag on")
    assert forum["result"]["flags"] & 16
    limits = await drive.ok(":ratelimit on 5/2")
    assert limits["result"] == {"rate_limits": {"per_route": 5, "window": 2.0}}
    rule = await drive.ok(":fail POST /channels/* 429 2 retry=0.1 global")
    assert rule["result"]["rule"] == {
        "method": "POST",
        "path": "/channels/*",
        "status": 429,
        "count": 2,
        "retry_after": 0.1,
        "scope": "global",
    }
    await drive.ok(":fail clear")
    await drive.ok(":ratelimit off")
    for bad in (":perms @Dramawatch ~oops", ":forum #general require_tag on", ":ratelimit maybe"):
        assert (await drive.line(bad))["error"]
