"""Discord faults (issue 14): 429s with Retry-After, per route and global; 5xx on any route; rate
limit buckets; a gateway that drops every 30 s. The bot waits, retries, loses nothing, and never
hammers: each test counts the requests a post took."""

from __future__ import annotations

from typing import Any

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver

SCHEDULE = (
    '/watchparty schedule drama:queen-of-tears episodes:1 start:"2026-11-28 20:00" timezone:Asia/Seoul reminders:5m'
)


def general(sb: Sandbox) -> list[dict[str, Any]]:
    channel = sb.world.channel_by_name("general")
    assert channel is not None
    return sb.world.messages[int(channel["id"])]


def message_posts(sb: Sandbox, since: int) -> list[int]:
    """Statuses of the POST /channels/…/messages requests made since request number `since`."""
    return [r.status for r in sb.server.requests[since:] if r.method == "POST" and r.path.endswith("/messages")]


async def party(sb: Sandbox) -> Driver:
    """A watch party announced in #general: a reminder at 10:55 UTC tomorrow, "starting now" at 11:00."""
    drive = Driver(sb)
    await drive.as_("mod")
    await drive.reply("/settings channel kind:announcements channel:#general")
    await drive.ok(SCHEDULE)
    await drive.ok(":advance 34h50m")  # 10:50 UTC
    return drive


async def test_429s_on_a_route_are_waited_out_and_retried_once_each(sandbox: Sandbox) -> None:
    drive = await party(sandbox)
    await drive.ok(":fail POST /channels/*/messages 429 3 retry=0.05")
    start = len(sandbox.server.requests)
    await drive.ok(":advance 10m")
    assert message_posts(sandbox, start) == [429, 429, 429, 200, 200]  # reminder: 3 waits then sent; start post
    assert len([m for m in general(sandbox) if m["content"].startswith("⏰")]) == 1
    assert len([m for m in general(sandbox) if "is starting now" in m["content"]]) == 1


async def test_a_global_429_holds_every_route_then_all_goes_out(sandbox: Sandbox) -> None:
    drive = await party(sandbox)
    await drive.ok(":fail * /channels/* 429 1 retry=0.1 global")
    start = len(sandbox.server.requests)
    await drive.ok(":advance 10m")
    assert message_posts(sandbox, start) == [429, 200, 200]
    assert sandbox.server.rate_limited == 1


async def test_a_502_is_retried_by_discord_py_and_a_503_by_the_job(sandbox: Sandbox) -> None:
    drive = await party(sandbox)
    await drive.ok(":fail POST /channels/*/messages 502 1")  # discord.py waits 1 s and retries itself
    start = len(sandbox.server.requests)
    await drive.ok(":advance 6m")
    assert message_posts(sandbox, start) == [502, 200]
    await drive.ok(":fail POST /channels/*/messages 503 1")  # not retried by discord.py: the job retries
    start = len(sandbox.server.requests)
    await drive.ok(":advance 5m")  # 11:01: the start post fails once…
    await drive.ok(":advance 2m")  # …and its job runs again 30 s later
    assert message_posts(sandbox, start) == [503, 200]
    assert len([m for m in general(sandbox) if "is starting now" in m["content"]]) == 1
    sandbox.errors.clear()  # discord.py logs nothing at ERROR for these; the job's retry is a warning


async def test_with_rate_limits_on_a_burst_waits_for_its_buckets_and_is_never_refused(sandbox: Sandbox) -> None:
    drive = Driver(sandbox)
    await drive.ok(":ratelimit on 2/0.25")
    for n in range(1, 7):
        await drive.reply(f"/probe-remind minutes:1 n:{n}")
    start = len(sandbox.server.requests)
    await drive.ok(":advance 1m")  # six posts due at once into one channel's bucket of 2 per 0.25 s
    assert sorted(m["content"].split(" (")[0] for m in general(sandbox)) == [f"Reminder {n}" for n in range(1, 7)]
    assert message_posts(sandbox, start) == [200] * 6  # the bot read the headers and waited: no 429
    assert sandbox.server.rate_limited == 0


async def test_a_gateway_dropping_every_30_s_for_10_minutes_loses_no_scheduled_post(sandbox: Sandbox) -> None:
    drive = await party(sandbox)  # its reminder (10:55) and "starting now" (11:00) fall in the window
    for minute in range(1, 11):
        await drive.reply(f"/probe-remind minutes:{minute} n:{minute}")
    await drive.ok(":fail flap 30s")
    await drive.ok(":advance 10m")
    contents = [m["content"] for m in general(sandbox)]
    reminders = sorted(c.split(" (")[0] for c in contents if c.startswith("Reminder"))
    assert reminders == sorted(f"Reminder {n}" for n in range(1, 11))  # each once
    assert len([c for c in contents if c.startswith("⏰")]) == 1
    assert len([c for c in contents if "is starting now" in c]) == 1
    assert sandbox.drops == 20 and sandbox.server.resumes >= 20
    assert sandbox.server.identifies == 1  # always resumed, never a new session
    await drive.ok(":fail clear")
    assert sandbox.flap_every is None
