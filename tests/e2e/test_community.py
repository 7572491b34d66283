"""Community recaps end to end: submit in a modal, review one at a time, shown in /recap, author told."""

from __future__ import annotations

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver, text_of


async def submit(drive: Driver, episode: int, title: str, text: str) -> dict:
    opened = await drive.reply(f"/recaps submit drama:queen-of-tears episode:{episode}")
    assert opened["type"] == 9 and opened["title"].startswith("Recap: Queen of Tears")
    return await drive.ok(f':submit Title="{title}" "Your recap"="{text}"')


async def test_submit_review_approve_and_shown_in_recap_with_dm(drive: Driver, sandbox: Sandbox) -> None:
    thanks = await submit(drive, 6, "Germany @everyone", "They finally talk in Berlin. **Big** moment.")
    assert "waits for a moderator" in thanks["response"]["content"]
    assert "Community recaps" not in text_of(await drive.reply("/recap queen-of-tears 6"))  # not yet approved

    await drive.as_("member")
    assert "for moderators" in (await drive.reply("/recaps review"))["content"]
    await drive.as_("mod")
    card = await drive.reply("/recaps review")
    assert card["ephemeral"] and "1 of 1 waiting" in text_of(card)
    assert card["embeds"][0]["description"].startswith("||")  # the plot stays hidden, even for moderators
    approved = await drive.ok(":click Approve")
    assert "No recaps waiting" in text_of(approved["response"])

    await drive.as_("member")
    shown = await drive.reply("/recap queen-of-tears 6")
    field = next(f for f in shown["embeds"][0]["fields"] if f["name"] == "Community recaps")
    assert "by alice" in field["value"] and "||They finally talk in Berlin." in field["value"]
    assert "@everyone" not in text_of(shown) and "**Big**" not in field["value"]
    dms = (await drive.ok(":dm alice"))["result"]["messages"]
    assert len(dms) == 1 and "was approved" in dms[0]["content"]


async def test_reject_with_reason_told_on_next_use_when_dms_are_closed(drive: Driver, sandbox: Sandbox) -> None:
    await drive.ok(":dms off")
    await submit(drive, 3, "Too long", "Everything happens.")
    await submit(drive, 4, "Second", "More happens.")
    await drive.as_("mod")
    first = await drive.reply("/recaps review")
    assert "1 of 2 waiting" in text_of(first) and "Too long" in text_of(first)
    modal = await drive.ok(":click Reject with reason…")
    assert modal["response"]["type"] == 9
    after = await drive.ok(':submit "Reason (shown to the author)"="Please trim it"')
    assert after["error"] is None
    second = await drive.reply("/recaps review")
    assert "1 of 1 waiting" in text_of(second) and "Second" in text_of(second)
    await drive.ok(":click Reject")
    assert (await drive.ok(":dm alice"))["result"]["messages"] == []  # DMs closed: nothing sent

    await drive.as_("member")
    result = await drive.ok("/help")  # any command: the outcome follows, only for her
    notes = [f["content"] for f in result["followups"]]
    assert any("was not approved" in n and "Please trim it" in n for n in notes)
    assert all(f["ephemeral"] for f in result["followups"])
    again = await drive.ok("/help")
    assert again["followups"] == []  # told once


async def test_review_buttons_refuse_members_and_survive_restart(drive: Driver, sandbox: Sandbox) -> None:
    await submit(drive, 2, "Hunt", "The boar.")
    await drive.as_("mod")
    await drive.reply("/recaps review")
    await sandbox.restart_bot()
    approved = await drive.ok(":click Approve")
    assert "No recaps waiting" in text_of(approved["response"])
    assert "Hunt" in text_of(await drive.reply("/recap queen-of-tears 2"))


async def test_an_outcome_decided_before_a_restart_is_told_on_the_next_use_after_it(
    drive: Driver, sandbox: Sandbox
) -> None:
    """Who still has an outcome to hear is kept in memory (no database trip after every command for
    everyone else) and read back at start."""
    await drive.ok(":dms off")
    await submit(drive, 3, "Too long", "Everything happens.")
    await drive.as_("mod")
    await drive.reply("/recaps review")
    await drive.ok(":click Reject")
    assert (await drive.ok("/help"))["followups"] == []  # not the moderator's outcome
    await sandbox.restart_bot()
    await drive.as_("member")
    result = await drive.ok("/help")
    assert [f["content"] for f in result["followups"] if "was not approved" in f["content"]]
    assert (await drive.ok("/help"))["followups"] == []  # told once
