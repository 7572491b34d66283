"""Watch parties through the sandbox: the event, the announcement with RSVP buttons, reminders
exactly once (across restarts), the starting-now post, weekly repeats, DST, bad input, the calendar.

The sandbox starts at 2026-11-27T00:00:00Z (as `--now 2026-11-27T00:00:00Z`). The party most tests
use starts 2026-11-28 20:00 in Asia/Seoul, i.e. 11:00 UTC; its default reminder is 1 h before.
"""

from __future__ import annotations

import asyncio
import copy
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from icalendar import Calendar

from bot import watchparties
from bot.sandbox.harness import Sandbox
from bot.sandbox.world import InteractionRecord
from bot.storage.watchparties import RsvpRepo
from bot.watchparties import RSVP_EDIT_INTERVAL
from tests.e2e.conftest import Driver, text_of

SCHEDULE = '/watchparty schedule drama:queen-of-tears episodes:1-2 start:"2026-11-28 20:00" timezone:Asia/Seoul'
START = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
REMINDER_DUE = START - timedelta(hours=1)
MODERATOR_ONLY = "Watch parties are scheduled by moderators and by members with the server's host role"


# -- helpers ----------------------------------------------------------------------------------------
async def cancel(drive: Driver, party_id: int) -> dict[str, Any]:
    """`/watchparty cancel` asks first; confirming does it. Returns the confirmation's result."""
    asked = await drive.reply(f"/watchparty cancel id:{party_id}")
    assert asked["ephemeral"] and asked["content"].startswith(f"Cancel watch party #{party_id}"), asked["content"]
    done = await drive.ok(":click Yes, cancel it")
    return done["response"]


def channel_id(sb: Sandbox, name: str) -> int:
    channel = sb.world.channel_by_name(name)
    assert channel is not None, name
    return int(channel["id"])


def messages(sb: Sandbox, name: str = "general") -> list[dict[str, Any]]:
    return sb.world.messages[channel_id(sb, name)]


def announcements(sb: Sandbox, name: str = "general") -> list[dict[str, Any]]:
    return [
        m
        for m in messages(sb, name)
        if "Watch party #" in ((m["embeds"] or [{}])[0].get("footer") or {}).get("text", "")
    ]


def reminders(sb: Sandbox, name: str = "general") -> list[dict[str, Any]]:
    return [m for m in messages(sb, name) if m["content"].startswith("⏰")]


def starting(sb: Sandbox, name: str = "general") -> list[dict[str, Any]]:
    return [m for m in messages(sb, name) if "is starting now" in m["content"]]


def rsvp_line(message: dict[str, Any]) -> str:
    return next(f["value"] for f in message["embeds"][0]["fields"] if f["name"] == "RSVP")


def labels(message: dict[str, Any]) -> list[str]:
    return [c["label"] for row in message["components"] for c in row["components"]]


def when(iso_text: str) -> datetime:
    return datetime.fromisoformat(iso_text).astimezone(UTC)


async def parties(sb: Sandbox) -> list[dict[str, Any]]:
    rows = await sb.bot.db.fetchall(
        "SELECT id, first_episode, last_episode, start_at, end_at, state, event_id, announcement_id "
        "FROM watch_parties ORDER BY id"
    )
    return [
        {
            **dict(r),
            "start_at": datetime.fromtimestamp(r["start_at"] / 1000, UTC),
            "end_at": datetime.fromtimestamp(r["end_at"] / 1000, UTC),
        }
        for r in rows
    ]


async def job_states(sb: Sandbox, party_id: int) -> dict[str, str]:
    rows = await sb.bot.db.fetchall(
        "SELECT dedupe_key, state FROM jobs WHERE dedupe_key LIKE ? ORDER BY id", (f"party:{party_id}:%",)
    )
    return {r["dedupe_key"]: r["state"] for r in rows}


async def setup(sb: Sandbox, *, announcements_channel: str | None = "#general") -> Driver:
    drive = Driver(sb)
    await drive.as_("mod")
    if announcements_channel:
        await drive.reply(f"/settings channel kind:announcements channel:{announcements_channel}")
    return drive


async def schedule_default(drive: Driver, extra: str = "") -> dict[str, Any]:
    response = await drive.reply(SCHEDULE + extra)
    assert response["ephemeral"] and "scheduled" in response["content"], response["content"]
    return response


async def going(drive: Driver, who: str = "member") -> None:
    await drive.as_(who)
    clicked = await drive.ok(":click Going")
    assert clicked["response"]["content"].startswith("You're going") and not clicked["followups"]
    await drive.as_("mod")


async def click_as(sb: Sandbox, user_id: int, custom_id: str, message: dict[str, Any]) -> InteractionRecord:
    """A button press by `user_id`; safe to run many at once (the user is read before any await)."""
    sb.user_id = user_id
    return await sb.interact(3, {"custom_id": custom_id, "component_type": 2}, message=message)


def shown(record: InteractionRecord) -> str:
    parts = [m.get("content") or "" for m in [record.original, *record.followups] if m]
    return "\n".join(parts)


# -- the "must show" --------------------------------------------------------------------------
async def test_schedule_rsvp_remind_and_start(sandbox: Sandbox) -> None:
    drive = Driver(sandbox)
    refused = await drive.reply(SCHEDULE)  # as member
    assert refused["ephemeral"] and refused["content"].startswith(MODERATOR_ONLY)
    assert await parties(sandbox) == [] and sandbox.world.events == {}

    await setup(sandbox)
    scheduled = await schedule_default(drive)
    assert scheduled["content"].startswith("Watch party #1 scheduled: **Queen of Tears** episodes 1–2")
    assert f"<t:{int(START.timestamp())}:F>" in scheduled["content"]

    (event,) = (await drive.ok(":events"))["result"]["events"]
    assert when(event["scheduled_start_time"]) == START
    assert event["name"] == "Watch party: Queen of Tears: episodes 1–2"
    assert event["entity_type"] == 2 and int(event["channel_id"]) == channel_id(sandbox, "Watch Party")

    (announcement,) = announcements(sandbox)
    assert announcement["embeds"][0]["title"] == "Watch party: Queen of Tears: episodes 1–2"
    assert labels(announcement) == ["Going", "Maybe", "Can't"]
    assert rsvp_line(announcement) == "Going: 0 · Maybe: 0 · Can't: 0"
    assert f"/events/{sandbox.world.guild_id}/{event['id']}" in text_of(announcement)

    await drive.as_("member")
    clicked = await drive.ok(":click Going")
    # Answered once the RSVP is committed (one ephemeral message), then the announcement is edited.
    assert clicked["response"]["type"] == 4 and rsvp_line(announcement) == "Going: 1 · Maybe: 0 · Can't: 0"
    assert clicked["response"]["ephemeral"] and "remind you" in clicked["response"]["content"]
    assert not clicked["followups"]

    advanced = await drive.ok(":advance 34h50m")  # 2026-11-28 10:50 UTC: ten minutes before the start
    assert advanced["result"]["now"] == "2026-11-28T10:50:00+00:00"
    alice = sandbox.world.alice
    (reminder,) = reminders(sandbox)
    assert f"<@{alice}>" in reminder["content"] and "Queen of Tears: episodes 1–2" in reminder["content"]
    sent = [
        r
        for r in advanced["requests"]
        if r["method"] == "POST" and r["path"].endswith("/messages") and r["json"]["content"].startswith("⏰")
    ]
    assert len(sent) == 1
    mentions = sent[0]["json"]["allowed_mentions"]
    assert [str(u) for u in mentions["users"]] == [str(alice)]
    assert mentions.get("parse") == [] and not mentions.get("roles")
    assert starting(sandbox) == []

    await drive.ok(":advance 11m")  # past the start
    (post,) = starting(sandbox)
    assert "Queen of Tears: episodes 1–2" in post["content"]
    assert f"<#{channel_id(sandbox, 'Watch Party')}>" in post["content"]
    await drive.ok(":advance 1d")
    assert len(reminders(sandbox)) == 1 and len(starting(sandbox)) == 1


async def test_without_announcements_channel_it_posts_where_the_command_was_typed(sandbox: Sandbox) -> None:
    drive = await setup(sandbox, announcements_channel=None)
    await drive.ok(":in #recaps")
    await schedule_default(drive)
    assert len(announcements(sandbox, "recaps")) == 1 and announcements(sandbox) == []
    await drive.as_("member")
    await drive.ok(":click Going")
    await drive.ok(":advance 35h")
    assert len(reminders(sandbox, "recaps")) == 1 and len(starting(sandbox, "recaps")) == 1
    assert reminders(sandbox) == [] and starting(sandbox) == []


async def test_rsvp_counts_update_and_buttons_survive_a_restart(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    (announcement,) = announcements(sandbox)
    await drive.as_("member")
    await drive.ok(":click Going")
    changed = await drive.ok(":click Maybe")
    assert rsvp_line(announcement) == "Going: 0 · Maybe: 1 · Can't: 0"
    answer = changed["response"]["content"]
    assert answer.startswith("You might come") and "remind" not in answer
    await sandbox.restart_bot()
    await drive.as_("admin")
    await drive.ok(":click Going")
    await drive.as_("mod")
    await drive.ok(":click Can't")
    assert rsvp_line(announcement) == "Going: 1 · Maybe: 1 · Can't: 1"
    listed = await drive.reply("/watchparty list")
    assert "Going 1 · Maybe 1 · Can't 1" in text_of(listed)

    await drive.ok(":advance 34h")  # only the one going is reminded
    (reminder,) = reminders(sandbox)
    assert re.findall(r"<@(\d+)>", reminder["content"]) == [str(sandbox.world.sora)]


async def test_a_start_shows_the_rsvps_a_crash_kept_off_the_announcement(sandbox: Sandbox) -> None:
    """Killed after RSVPs were committed but before the announcement edit showed them: the next start
    edits the announcement (once), without waiting for someone to press again."""
    drive = await setup(sandbox)
    await schedule_default(drive)
    (announcement,) = announcements(sandbox)
    await going(drive)
    assert rsvp_line(announcement) == "Going: 1 · Maybe: 0 · Can't: 0"
    # What such a kill leaves: two answers recorded, the announcement not edited.
    await RsvpRepo(sandbox.bot.db).set_many(1, [(1250000000000000001, "maybe"), (1250000000000000002, "cant")])
    await sandbox.restart_bot()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while rsvp_line(announcement) != "Going: 1 · Maybe: 1 · Can't: 1" and loop.time() < deadline:  # noqa: ASYNC110 - polls the sandbox's world
        await asyncio.sleep(0.05)
    assert rsvp_line(announcement) == "Going: 1 · Maybe: 1 · Can't: 1"
    before = len(sandbox.server.requests)
    await sandbox.restart_bot()  # shown now: nothing to edit at the next start
    await asyncio.sleep(0.5)
    assert not [r for r in sandbox.server.requests[before:] if r.method == "PATCH" and "/messages/" in r.path]
    assert not sandbox.errors


async def test_a_slow_write_is_acknowledged_in_time_and_confirmed_once_stored(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord's 3 s never depend on the database: a write slower than ACK_WAIT gets a "thinking…"
    acknowledgement first, then the confirmation once it is stored."""
    drive = await setup(sandbox)
    await schedule_default(drive)
    (announcement,) = announcements(sandbox)
    set_many = RsvpRepo.set_many

    async def slow(self: RsvpRepo, party_id: int, rsvps: list[tuple[int, str]]) -> None:
        await asyncio.sleep(0.3)
        await set_many(self, party_id, rsvps)

    monkeypatch.setattr(RsvpRepo, "set_many", slow)
    monkeypatch.setattr(watchparties, "ACK_WAIT", 0.05)
    await drive.as_("member")
    clicked = await drive.ok(":click Going")
    # Acknowledged first ("thinking…", only for them); the confirmation, sent once stored, takes its place
    # (Discord: the first follow-up to a deferred response edits it).
    answer = clicked["response"]
    assert answer["type"] == 5 and answer["ephemeral"] and answer["content"].startswith("You're going")
    assert clicked["followups"] == []
    assert rsvp_line(announcement) == "Going: 1 · Maybe: 0 · Can't: 0"


async def test_concurrent_rsvps_are_all_recorded(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    (announcement,) = announcements(sandbox)
    users = [sandbox.world._add_member(sandbox.world._user(1200000000000000000 + i, f"fan{i}"), []) for i in range(60)]
    records = await asyncio.gather(*(click_as(sandbox, u, "dw:rsvp:1:going", announcement) for u in users))
    assert all(r.callback is not None and r.callback["type"] == 4 for r in records)
    rows = await sandbox.bot.db.fetchall("SELECT user_id, status FROM rsvps WHERE party_id = 1")
    assert sorted(r["user_id"] for r in rows) == sorted(users) and {r["status"] for r in rows} == {"going"}
    assert rsvp_line(announcement) == "Going: 60 · Maybe: 0 · Can't: 0"


async def test_300_concurrent_presses_are_all_answered_and_coalesced_into_few_edits(sandbox: Sandbox) -> None:
    """The issue's must-show: a burst of presses on one party. Every press is answered with its
    ephemeral confirmation (after its RSVP is committed), every RSVP is stored, the announcement ends
    with the exact counts, and it is edited at most once per coalescing window (RSVP_EDIT_INTERVAL)
    — not once per press."""
    drive = await setup(sandbox)
    await schedule_default(drive)
    (announcement,) = announcements(sandbox)
    world = sandbox.world
    users = [world._add_member(world._user(1210000000000000000 + i, f"burst{i}"), []) for i in range(300)]
    wanted = {
        user: ("going", "going", "going", "going", "going", "maybe", "maybe", "cant")[i % 8]
        for i, user in enumerate(users)
    }
    first_request = len(sandbox.server.requests)
    loop = asyncio.get_running_loop()
    started = loop.time()
    records = await asyncio.gather(
        *(click_as(sandbox, user, f"dw:rsvp:1:{status}", announcement) for user, status in wanted.items())
    )
    elapsed = loop.time() - started

    for user, record in zip(wanted, records, strict=True):
        assert record.callback is not None and record.callback["type"] == 4 and not record.followups, user
        confirmation = record.callback["data"]
        assert confirmation["flags"] & 64 and confirmation["content"].startswith(
            {"going": "You're going", "maybe": "You might come", "cant": "You can't make it"}[wanted[user]]
        )
    rows = await sandbox.bot.db.fetchall("SELECT user_id, status FROM rsvps WHERE party_id = 1")
    assert {r["user_id"]: r["status"] for r in rows} == wanted
    assert rsvp_line(announcement) == "Going: 189 · Maybe: 74 · Can't: 37"

    edits = [
        r
        for r in sandbox.server.requests[first_request:]
        if r.method == "PATCH" and "/messages/" in r.path and r.json and r.json.get("embeds")
    ]
    shown_going = [int(re.search(r"Going: (\d+)", rsvp_line(e.json)).group(1)) for e in edits]  # type: ignore[union-attr]
    assert 1 <= len(edits) <= math.ceil(elapsed / RSVP_EDIT_INTERVAL) + 1, (len(edits), elapsed)
    assert shown_going == sorted(shown_going) and shown_going[-1] == 189  # each edit shows every earlier press
    assert not sandbox.errors


# -- weekly repeats -------------------------------------------------------------------------------------
async def test_weekly_repeat_advances_episodes_until_the_drama_ends(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive, " repeat:weekly")
    await drive.as_("member")
    await drive.ok(":click Going")
    await drive.ok(":advance 35h")  # past the first start
    seen = await parties(sandbox)
    assert [(p["first_episode"], p["last_episode"]) for p in seen] == [(1, 2), (3, 4)]
    assert seen[1]["start_at"] == START + timedelta(days=7) and seen[1]["state"] == "scheduled"
    assert len(announcements(sandbox)) == 2 and len(sandbox.world.events) == 2
    assert announcements(sandbox)[-1]["embeds"][0]["title"] == "Watch party: Queen of Tears: episodes 3–4"
    assert "repeats weekly" in announcements(sandbox)[-1]["embeds"][0]["footer"]["text"]
    assert len(reminders(sandbox)) == 1  # RSVPs belong to one party: nobody is going to the next yet

    for week in range(2, 9):
        await drive.ok(":advance 7d")
        seen = await parties(sandbox)
        expected = [(2 * i + 1, 2 * i + 2) for i in range(min(week + 1, 8))]
        assert [(p["first_episode"], p["last_episode"]) for p in seen] == expected, f"week {week}"
    assert [p["start_at"] for p in seen] == [START + timedelta(days=7 * i) for i in range(8)]
    assert all(p["state"] == "started" for p in seen)
    assert len(starting(sandbox)) == 8 and "episodes 15–16" in starting(sandbox)[-1]["content"]

    await drive.ok(":advance 21d")  # the drama has ended: nothing more
    assert len(await parties(sandbox)) == 8
    assert len(announcements(sandbox)) == 8 and len(sandbox.world.events) == 8 and len(starting(sandbox)) == 8


async def test_weekly_repeat_across_dst_keeps_the_local_time(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    # 2027-03-07 20:00 EST (UTC−5); on 2027-03-14 New York is on EDT (UTC−4).
    await drive.reply(
        '/watchparty schedule drama:queen-of-tears episodes:1-2 start:"2027-03-07 20:00" '
        "timezone:America/New_York repeat:weekly"
    )
    await drive.ok(":advance 101d2h")  # 2027-03-08 02:00 UTC, past the first start
    first, second = await parties(sandbox)
    assert first["start_at"] == datetime(2027, 3, 8, 1, 0, tzinfo=UTC)
    assert second["start_at"] == datetime(2027, 3, 15, 0, 0, tzinfo=UTC)  # 20:00 EDT
    assert second["start_at"] - first["start_at"] == timedelta(days=7, hours=-1)
    event = sandbox.world.events[second["event_id"]]
    assert when(event["scheduled_start_time"]) == second["start_at"]


# -- cancel and edit --------------------------------------------------------------------------------------
async def test_cancel_removes_the_event_buttons_and_reminders(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await going(drive)
    (announcement,) = announcements(sandbox)
    as_shown_before = copy.deepcopy(announcement)
    assert len(sandbox.world.events) == 1
    cancelled = await cancel(drive, 1)
    assert cancelled["ephemeral"] and cancelled["content"].startswith("Watch party #1 cancelled")
    assert sandbox.world.events == {}
    told = [m for m in messages(sandbox) if m["content"].startswith("❌")]
    assert len(told) == 1 and f"<@{sandbox.world.alice}>" in told[0]["content"]  # the member going is told
    assert announcement["embeds"][0]["title"].startswith("Cancelled:") and announcement["components"] == []
    assert "RSVP" not in text_of(announcement)
    assert set((await job_states(sandbox, 1)).values()) == {"cancelled"}

    await drive.as_("member")
    gone = await drive.line(":click Going")
    assert gone["error"] and "no button" in gone["error"]
    # A client that still shows the old buttons: the press is refused and changes nothing.
    record = await click_as(sandbox, sandbox.world.alice, "dw:rsvp:1:maybe", as_shown_before)
    assert record.callback is not None and "was cancelled" in shown(record)
    assert all(m.get("flags", 0) & 64 for m in [record.original, *record.followups] if m)
    rows = await sandbox.bot.db.fetchall("SELECT status FROM rsvps WHERE party_id = 1")
    assert [r["status"] for r in rows] == ["going"]

    await drive.ok(":advance 2d")
    assert reminders(sandbox) == [] and starting(sandbox) == []
    await drive.as_("mod")
    again = await drive.reply("/watchparty cancel id:1")
    assert "already cancelled" in again["content"]
    unknown = await drive.reply("/watchparty cancel id:42")
    assert unknown["ephemeral"] and "`id`" in unknown["content"] and "no watch party #42" in unknown["content"]


async def test_buttons_left_by_a_failed_edit_are_refused(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await drive.ok(":fail PATCH /channels/*/messages/* 403 1")  # the announcement can't be updated
    cancelled = await cancel(drive, 1)
    assert cancelled["content"].startswith("Watch party #1 cancelled")
    (announcement,) = announcements(sandbox)
    assert labels(announcement) == ["Going", "Maybe", "Can't"]
    await drive.as_("member")
    refused = await drive.ok(":click Going")
    assert refused["response"]["ephemeral"] and "This watch party was cancelled." in refused["response"]["content"]
    assert await sandbox.bot.db.fetchall("SELECT user_id FROM rsvps") == []
    assert rsvp_line(announcement) == "Going: 0 · Maybe: 0 · Can't: 0"


async def test_edit_moves_the_event_and_the_reminders(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await going(drive)
    edited = await drive.reply('/watchparty edit id:1 start:"2026-11-29 21:00" episodes:3-4')
    assert edited["content"].startswith("Watch party #1 updated: episodes 3–4")
    new_start = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    (event,) = sandbox.world.events.values()
    assert when(event["scheduled_start_time"]) == new_start and "episodes 3–4" in event["name"]
    (announcement,) = announcements(sandbox)
    assert f"<t:{int(new_start.timestamp())}:F>" in text_of(announcement)
    assert "episodes 3–4" in announcement["embeds"][0]["title"] and rsvp_line(announcement).startswith("Going: 1")

    await drive.ok(":advance 36h")  # 2026-11-28 12:00 UTC: past the old start and its reminder
    assert reminders(sandbox) == [] and starting(sandbox) == []
    await drive.ok(":advance 23h")  # 2026-11-29 11:00 UTC: the new reminder
    (reminder,) = reminders(sandbox)
    assert f"<@{sandbox.world.alice}>" in reminder["content"] and "episodes 3–4" in reminder["content"]
    await drive.ok(":advance 1h1m")
    assert len(starting(sandbox)) == 1 and len(reminders(sandbox)) == 1


# -- restarts: exactly one reminder ----------------------------------------------------------------------
async def test_restart_between_due_and_firing_sends_one_reminder(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await going(drive)
    await sandbox.stop_bot()
    sandbox.clock.set(REMINDER_DUE + timedelta(minutes=5))  # due while the bot was down, 5 min late
    await sandbox.start_bot()
    await drive.ok(":advance 1m")
    (reminder,) = reminders(sandbox)
    assert f"<@{sandbox.world.alice}>" in reminder["content"]
    await sandbox.restart_bot()
    await drive.ok(":advance 2h")
    assert len(reminders(sandbox)) == 1 and len(starting(sandbox)) == 1


async def test_reminder_more_than_ten_minutes_late_is_skipped(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await going(drive)
    await sandbox.stop_bot()
    sandbox.clock.set(REMINDER_DUE + timedelta(minutes=15))
    await sandbox.start_bot()
    await drive.ok(":advance 1m")
    assert reminders(sandbox) == []
    assert (await job_states(sandbox, 1))["party:1:remind:60"] == "missed"
    await drive.ok(":advance 1h")  # the party itself still starts
    assert reminders(sandbox) == [] and len(starting(sandbox)) == 1


async def test_restart_right_after_the_reminder_is_still_one(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await going(drive)
    await drive.ok(":advance 34h")  # 10:00 UTC: the reminder is sent
    assert len(reminders(sandbox)) == 1
    await sandbox.restart_bot()
    await drive.ok(":advance 1m")
    assert len(reminders(sandbox)) == 1

    # A crash after sending, before the job was marked done: the job runs again after the restart,
    # finds the post recorded and sends nothing.
    db = sandbox.bot.db
    await db.execute("UPDATE jobs SET state = 'running' WHERE dedupe_key = 'party:1:remind:60'")
    await sandbox.restart_bot()
    rerun = await drive.ok(":advance 1m")
    assert (await job_states(sandbox, 1))["party:1:remind:60"] == "done"
    assert [r for r in rerun["requests"] if r["method"] == "POST"] == [] and len(reminders(sandbox)) == 1

    # A crash even before the post was recorded: the job runs again, finds the reminder already in
    # the channel (Discord's nonce dedupe lasts only minutes, so it looks) and records it.
    db = sandbox.bot.db
    await db.execute("UPDATE jobs SET state = 'running' WHERE dedupe_key = 'party:1:remind:60'")
    await db.execute("UPDATE party_posts SET message_id = NULL WHERE party_id = 1 AND kind = 'remind:60'")
    await sandbox.restart_bot()
    resent = await drive.ok(":advance 1m")
    assert [r for r in resent["requests"] if r["method"] == "POST"] == []
    assert any(r["method"] == "GET" and r["path"].endswith("/messages") for r in resent["requests"])
    assert (await job_states(sandbox, 1))["party:1:remind:60"] == "done"
    assert len(reminders(sandbox)) == 1
    await drive.ok(":advance 1h")
    assert len(reminders(sandbox)) == 1 and len(starting(sandbox)) == 1


# -- time zones and bad input --------------------------------------------------------------------------------
async def test_dst_gap_is_refused_and_overlap_is_explained(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    gap = await drive.reply(
        '/watchparty schedule drama:queen-of-tears episodes:1 start:"2027-03-14 02:30" timezone:America/New_York'
    )
    assert gap["ephemeral"] and gap["content"].startswith("`start`: 02:30 does not exist on 14 March 2027")
    assert "from 02:00 straight to 03:00" in gap["content"] and "daylight saving" in gap["content"]
    assert await parties(sandbox) == [] and sandbox.world.events == {}

    overlap = await drive.reply(
        '/watchparty schedule drama:queen-of-tears episodes:1 start:"2027-11-07 01:30" timezone:America/New_York'
    )
    assert overlap["content"].startswith("Watch party #1 scheduled")
    assert "01:30 happens twice on 07 November 2027" in overlap["content"]
    assert "the first one, UTC−4" in overlap["content"]
    (party,) = await parties(sandbox)
    assert party["start_at"] == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST
    (event,) = sandbox.world.events.values()
    assert when(event["scheduled_start_time"]) == party["start_at"]


BAD_INPUTS = [
    ('episodes:1-2 start:"someday 8pm"', "`start`", "tomorrow 9pm"),
    ('episodes:1-2 start:"2026-02-30 20:00"', "`start`", "not a real date"),
    ('episodes:1-2 start:"2026-12-01 20:00" timezone:Asia/Seol', "`timezone`", "`Asia/Seoul`"),
    ('episodes:0 start:"2026-12-01 20:00"', "`episodes`", "episodes 1–16"),
    ('episodes:17 start:"2026-12-01 20:00"', "`episodes`", "episodes 1–16"),
    ('episodes:5-3 start:"2026-12-01 20:00"', "`episodes`", "like `3-5`"),
    ('episodes:abc start:"2026-12-01 20:00"', "`episodes`", "not an episode"),
    ('episodes:1-2 start:"2026-11-26 20:00" timezone:Asia/Seoul', "`start`", "in the past"),
    ('episodes:1-2 start:"2026-12-01 20:00" reminders:5x', "`reminders`", "1d,1h,10m"),
]


async def test_invalid_input_is_answered_clearly_and_creates_nothing(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    for options, option, hint in BAD_INPUTS:
        response = await drive.reply(f"/watchparty schedule drama:queen-of-tears {options}")
        assert response["ephemeral"], options
        assert response["content"].startswith(option) and hint in response["content"], (options, response["content"])
    assert await parties(sandbox) == [] and sandbox.world.events == {} and messages(sandbox) == []
    assert await sandbox.bot.db.fetchall("SELECT id FROM jobs WHERE kind LIKE 'party.%'") == []

    await schedule_default(drive)
    for options, option, hint in [
        ('start:"2026-11-20 20:00"', "`start`", "in the past"),
        ("timezone:Mars/Olympus start:2026-12-01T20:00", "`timezone`", "not an IANA time zone"),
        ("episodes:15-16 reminders:1y", "`reminders`", "not an offset"),
    ]:
        response = await drive.reply(f"/watchparty edit id:1 {options}")
        assert response["ephemeral"] and response["content"].startswith(option), response["content"]
        assert hint in response["content"], response["content"]
    (party,) = await parties(sandbox)
    assert (party["first_episode"], party["last_episode"], party["start_at"]) == (1, 2, START)


# -- the calendar -----------------------------------------------------------------------------------------------
async def calendar_file(sb: Sandbox, drive: Driver) -> tuple[str, bytes]:
    response = await drive.reply("/watchparty calendar")
    assert response["ephemeral"]
    record = list(sb.world.interactions.values())[-1]
    assert record.original is not None
    (attachment,) = record.original["attachments"]
    assert attachment["filename"].endswith(".ics")
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as got:
        assert got.status == 200
        return response["content"], await got.read()


def vevents(data: bytes) -> list[Any]:
    return [c for c in Calendar.from_ical(data).walk() if c.name == "VEVENT"]


async def test_calendar_ics_parses_and_round_trips_the_times(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await drive.reply(
        '/watchparty schedule drama:lovely-runner episodes:3 start:"2027-11-07 01:30" timezone:America/New_York '
        'where:"Rooftop, Seoul" note:"Bring snacks; chat, then \\"watch\\""'
    )
    await drive.reply('/watchparty schedule drama:queen-of-tears episodes:5 start:"2026-12-24 19:00"')
    await cancel(drive, 3)
    await drive.as_("member")  # the calendar is for everyone
    text, data = await calendar_file(sandbox, drive)
    assert text.startswith("2 upcoming watch parties of Drama Club")
    events = vevents(data)
    upcoming = [p for p in await parties(sandbox) if p["state"] == "scheduled"]
    assert len(events) == len(upcoming) == 2
    for event, party in zip(sorted(events, key=lambda e: e.decoded("dtstart")), upcoming, strict=True):
        assert event.decoded("dtstart") == party["start_at"] and event.decoded("dtend") == party["end_at"]
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
        assert str(event["uid"]).startswith(f"watchparty-{party['id']}-")
    assert str(events[1]["location"]) == "Discord: Rooftop, Seoul"
    assert str(events[1]["description"]).startswith('Bring snacks; chat, then "watch"')
    assert str(events[0]["summary"]) == "Watch party: Queen of Tears: episodes 1–2"

    _, again = await calendar_file(sandbox, drive)
    assert [str(e["uid"]) for e in vevents(again)] == [str(e["uid"]) for e in events]
    await drive.ok(":advance 36h")  # the first party is over: it leaves the calendar
    _, later = await calendar_file(sandbox, drive)
    assert [str(e["uid"]) for e in vevents(later)] == [str(events[1]["uid"])]


# -- permissions and autocomplete ----------------------------------------------------------------------------------
async def test_without_create_events_the_party_still_happens(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await drive.ok(":fail POST /guilds/*/scheduled-events 403")
    response = await schedule_default(drive)
    assert "⚠️" in response["content"] and "**Create Events**" in response["content"]
    assert sandbox.world.events == {}
    (party,) = await parties(sandbox)
    assert party["event_id"] is None
    (announcement,) = announcements(sandbox)
    assert "Discord event" not in text_of(announcement) and labels(announcement) == ["Going", "Maybe", "Can't"]
    await going(drive)
    await drive.ok(":advance 34h")
    (reminder,) = reminders(sandbox)
    assert f"<@{sandbox.world.alice}>" in reminder["content"] and "discord.com/events" not in reminder["content"]
    await drive.ok(":advance 1h")
    assert len(starting(sandbox)) == 1


async def test_party_id_autocomplete_shows_drama_episodes_and_time(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await drive.reply(
        '/watchparty schedule drama:lovely-runner episodes:3 start:"2026-12-05 21:00" timezone:Asia/Seoul'
    )
    choices = (await drive.ok(":type /watchparty cancel id:"))["result"]["choices"]
    assert choices == [
        # In the zone each party was entered in (Asia/Seoul here), as the moderator typed it.
        {"name": "#1 · Queen of Tears: episodes 1–2 · Sat 28 Nov 20:00 KST", "value": 1},
        {"name": "#2 · Lovely Runner: episode 3 · Sat 05 Dec 21:00 KST", "value": 2},
    ]
    narrowed = (await drive.ok(":type /watchparty edit id:lovely"))["result"]["choices"]
    assert [c["value"] for c in narrowed] == [2]
    await cancel(drive, 2)
    after = (await drive.ok(":type /watchparty cancel id:"))["result"]["choices"]
    assert [c["value"] for c in after] == [1]


async def test_member_cannot_edit_or_cancel(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await drive.as_("member")
    for line in ('/watchparty edit id:1 start:"2026-12-01 20:00"', "/watchparty cancel id:1"):
        refused = await drive.reply(line)
        assert refused["ephemeral"] and refused["content"].startswith(MODERATOR_ONLY)
    (party,) = await parties(sandbox)
    assert party["state"] == "scheduled" and party["start_at"] == START and len(sandbox.world.events) == 1


async def test_moving_a_party_tells_exactly_the_members_going_and_the_announcement_names_them(
    sandbox: Sandbox,
) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)
    await going(drive, "member")
    await going(drive, "admin")
    await drive.as_("mod")
    await drive.ok(":click Maybe")  # mina is only a maybe: she is not told
    (announcement,) = announcements(sandbox)
    names = next(f["value"] for f in announcement["embeds"][0]["fields"] if f["name"].startswith("Going ("))
    going_ids = {sandbox.world.alice, sandbox.world.user_id("admin")}
    assert set(map(int, re.findall(r"<@(\d+)>", names))) == going_ids

    before = len(messages(sandbox))
    await drive.reply('/watchparty edit id:1 start:"2026-11-29 20:00"')
    told = [m for m in messages(sandbox)[before:] if m["content"].startswith("🔔")]
    assert len(told) == 1
    assert set(map(int, re.findall(r"<@(\d+)>", told[0]["content"]))) == going_ids
    allowed = told[0]["allowed_mentions"]  # only these members may be pinged: no roles, no @everyone
    assert {int(u) for u in allowed["users"]} == going_ids and not allowed.get("roles") and allowed["parse"] == []
    assert "<t:1795950000:F>" in told[0]["content"]
    await drive.reply('/watchparty edit id:1 note:"Bring snacks"')  # not a move: nobody is pinged again
    assert [m for m in messages(sandbox)[before:] if m["content"].startswith("🔔")] == told


async def test_the_discord_event_is_started_at_the_start_and_completed_at_the_end(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    await schedule_default(drive)  # 2026-11-28 11:00 UTC, two episodes of ~85 minutes
    (event,) = sandbox.world.events.values()
    assert event["status"] == 1  # scheduled
    await drive.ok(":advance 35h1m")  # just past the start
    assert event["status"] == 2  # active
    await drive.ok(":advance 4h")  # past the end
    assert event["status"] == 3  # completed


async def test_where_that_looks_like_a_channel_but_is_none_is_refused_with_suggestions(sandbox: Sandbox) -> None:
    drive = await setup(sandbox)
    for where in ('"#Watch Pary"', '"Watch Pary"', "<#1100000000000001001>"):  # a typo, a near-spelling, #general
        refused = await drive.reply(f"{SCHEDULE} where:{where}")
        assert refused["ephemeral"] and refused["content"].startswith("`where`"), refused["content"]
        assert "not a voice or stage channel" in refused["content"]
    assert "Did you mean 🔊 Watch Party?" in (await drive.reply(f'{SCHEDULE} where:"#Watch Pary"'))["content"]
    assert await parties(sandbox) == []
    outside = await drive.reply(f'{SCHEDULE} where:"Rooftop, Seoul"')
    assert "scheduled" in outside["content"]
    default = await drive.reply(SCHEDULE)
    assert "first voice channel" in default["content"] and "Watch Party" in default["content"]
