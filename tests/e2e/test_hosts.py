"""Watch party hosts and natural times, through the sandbox: a member with the host role schedules
with "tomorrow 9pm" in the server's zone, and manages only their own parties."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.conftest import Driver

# The sandbox's default clock for these tests: 2026-11-27T00:00:00Z, a Friday (09:00 in Seoul).
TOMORROW_9PM_SEOUL = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def test_a_host_schedules_with_a_natural_time_and_manages_only_their_own(drive: Driver) -> None:
    sb = drive.sandbox
    await drive.as_("mod")
    await drive.reply("/settings timezone name:Asia/Seoul")
    await drive.reply("/settings channel kind:announcements channel:#general")
    host_role = await sb.add_role("Hosts", members=("member",))
    await drive.reply(f"/settings hostrole role:<@&{host_role}>")
    moderators = await drive.reply('/watchparty schedule drama:queen-of-tears episodes:3 start:"sat 22:00"')
    assert "Watch party #1 scheduled" in moderators["content"]

    await drive.as_("member")  # alice, with the host role
    response = await drive.line('/watchparty schedule drama:queen-of-tears episodes:1-2 start:"tomorrow 9pm"')
    text = response["followups"][0]["content"] if response["followups"] else response["response"]["content"]
    assert "Watch party #2 scheduled" in text, text
    stamp = int(TOMORROW_9PM_SEOUL.timestamp())
    assert f"<t:{stamp}:F>" in text  # echoed back as an absolute Discord timestamp
    rows = await sb.bot.db.fetchall("SELECT id, start_at, created_by FROM watch_parties ORDER BY id")
    assert rows[1]["start_at"] == stamp * 1000 and rows[1]["created_by"] == sb.world.user_id("member")

    cancel_other = await drive.line("/watchparty cancel id:1")
    said = " ".join([cancel_other["response"]["content"] or ""] + [f["content"] for f in cancel_other["followups"]])
    assert "scheduled by someone else" in said
    assert (await sb.bot.db.fetchall("SELECT state FROM watch_parties WHERE id = 1"))[0]["state"] == "scheduled"
    asked = await drive.reply("/watchparty cancel id:2")
    assert asked["content"].startswith("Cancel watch party #2")
    kept = await drive.ok(":click Keep it")
    assert "Kept watch party #2" in kept["response"]["content"]
    assert (await sb.bot.db.fetchall("SELECT state FROM watch_parties WHERE id = 2"))[0]["state"] == "scheduled"
    await drive.reply("/watchparty cancel id:2")
    own = await drive.ok(":click Yes, cancel it")
    assert own["response"]["content"].startswith("Watch party #2 cancelled")

    sb.world.members[sb.world.user_id("member")]["roles"].remove(str(host_role))
    refused = await drive.reply('/watchparty schedule drama:queen-of-tears episodes:3 start:"tomorrow 9pm"')
    assert "host role" in refused["content"]
