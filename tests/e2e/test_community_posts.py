"""Community recaps reach people: the moderators hear of each submission, and an approved recap is
posted once in the episode's thread (else the recaps channel) — across a failed send and a restart."""

from __future__ import annotations

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver, text_of
from tests.e2e.test_community import submit


def channel(sb: Sandbox, name: str) -> list[dict]:
    return sb.world.messages[int(sb.world.channel_by_name(name)["id"])]


def posts_of(messages: list[dict], recap_id: int) -> list[dict]:
    mark = f"Community recap #{recap_id} "
    return [m for m in messages if any((e.get("footer") or {}).get("text", "").startswith(mark) for e in m["embeds"])]


async def test_a_submission_tells_the_mods_and_the_approved_recap_is_posted_once_in_the_thread(
    drive: Driver, sandbox: Sandbox
) -> None:
    await drive.as_("mod")
    await drive.reply("/settings channel kind:mods channel:#mods")
    await drive.reply("/settings channel kind:discussions channel:#discussions")
    opened = await drive.line("/discuss drama:queen-of-tears episode:6")
    assert opened["error"] is None
    (thread,) = [t for t in sandbox.world.threads() if "Episode 6" in t["name"]]

    await drive.as_("member")
    await submit(drive, 6, "Germany", "They finally talk in Berlin. **Big** moment, @everyone.")
    notices = [m for m in channel(sandbox, "mods") if m["content"].startswith("📝")]
    assert len(notices) == 1
    notice = notices[0]
    assert "Queen of Tears" in notice["content"] and "Berlin" not in notice["content"]  # no plot in #mods
    assert [c["label"] for row in notice["components"] for c in row["components"]] == ["Review"]

    await drive.as_("member")
    refused = await drive.ok(":click Review")
    assert "for moderators" in text_of(refused["response"])
    await drive.as_("mod")
    card = await drive.ok(":click Review")
    assert "1 of 1 waiting" in text_of(card["response"])
    await drive.ok(":click Approve")

    posted = posts_of(sandbox.world.messages[int(thread["id"])], 1)
    assert len(posted) == 1
    embed = posted[0]["embeds"][0]
    assert embed["description"].startswith("||They finally talk in Berlin.") and "**Big**" not in embed["description"]
    assert "@everyone" not in str(posted[0]["content"]) and posted[0]["mention_everyone"] is False
    assert posts_of(channel(sandbox, "recaps"), 1) == []


async def test_an_approved_recap_whose_post_failed_goes_out_once_after_a_restart(
    drive: Driver, sandbox: Sandbox
) -> None:
    await drive.as_("mod")
    await drive.reply("/settings channel kind:recaps channel:#recaps")
    await drive.as_("member")
    await submit(drive, 3, "Hunt", "The boar.")
    await drive.as_("mod")
    await drive.reply("/recaps review")
    recaps = sandbox.world.channel_by_name("recaps")["id"]
    await drive.ok(f":fail POST /channels/{recaps}/messages 503 20")  # Discord down for the post
    await drive.ok(":click Approve")
    assert posts_of(channel(sandbox, "recaps"), 1) == []
    sandbox.errors.clear()  # the failed post was logged; it is claimed, not lost
    await drive.ok(":fail clear")
    await sandbox.restart_bot()
    assert len(posts_of(channel(sandbox, "recaps"), 1)) == 1
    await sandbox.restart_bot()
    assert len(posts_of(channel(sandbox, "recaps"), 1)) == 1  # once
