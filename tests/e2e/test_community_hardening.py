"""Issue "Hardening", items 4–5 and the whole path of a hostile recap, through the sandbox.

4. A modal's submission re-checks the moderator permission, and its custom id can't be guessed.
5. Every opening of a modal has its own custom id, so two members' forms don't replace each other.
Then a maximum-length recap full of markdown goes submit → review → approve → /recap within every
Discord limit (the sandbox's spec check runs on every request; the fixture fails on a violation).
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.harness import Sandbox
from tests.discord_text import embed_problems, read, texts_of
from tests.e2e.conftest import Driver, text_of

REASON = "Reason (shown to the author)"


async def open_form(drive: Driver, who: str, episode: int = 6) -> tuple[Any, dict[str, Any]]:
    await drive.as_(who)
    opened = await drive.reply(f"/recaps submit drama:queen-of-tears episode:{episode}")
    assert opened["type"] == 9
    assert drive.sandbox.open_modal is not None
    return drive.sandbox.open_modal


async def submit_form(drive: Driver, who: str, form: tuple[Any, dict[str, Any]], **fields: str) -> dict[str, Any]:
    """Submit `form` (as returned by `open_form`) as `who`, whoever opened it."""
    await drive.as_(who)
    drive.sandbox.open_modal = form
    return await drive.sandbox.submit(fields)


async def waiting(drive: Driver) -> str:
    await drive.as_("admin")
    return text_of(await drive.reply("/recaps review"))


# -- 5. two members writing a recap of one episode at once ---------------------------------------------------------
async def test_two_members_submitting_at_once_are_both_stored(drive: Driver, sandbox: Sandbox) -> None:
    alice = await open_form(drive, "member")
    sora = await open_form(drive, "admin")  # opened while alice's form is still open
    assert alice[1]["custom_id"] != sora[1]["custom_id"]  # was: dw:recap-submit:queen-of-tears:6 for both

    first = await submit_form(drive, "member", alice, Title="Alice's view", **{"Your recap": "Berlin."})
    second = await submit_form(drive, "admin", sora, Title="Sora's view", **{"Your recap": "The vault."})
    for result in (first, second):  # was: the second got no answer ("This interaction failed"), never stored
        assert result["error"] is None and "waits for a moderator" in result["response"]["content"]

    assert "1 of 2 waiting" in await waiting(drive)
    await drive.as_("mod")
    await drive.reply("/recaps review")
    await drive.ok(":click Approve")
    await drive.ok(":click Approve")
    shown = text_of(await drive.reply("/recap queen-of-tears 6"))
    assert "Alice's view" in shown and "by alice" in shown
    assert "Sora's view" in shown and "by sora" in shown


async def test_each_opening_of_the_reason_form_has_its_own_id(drive: Driver, sandbox: Sandbox) -> None:
    form = await open_form(drive, "member", 3)
    await submit_form(drive, "member", form, Title="Hunt", **{"Your recap": "The boar."})
    await drive.as_("mod")
    await drive.reply("/recaps review")
    ids = set()
    for _ in range(2):
        modal = await drive.ok(":click Reject with reason…")
        ids.add(modal["response"]["custom_id"])
    assert len(ids) == 2 and not any(i.startswith("dw:recap-reason:1") for i in ids)


# -- 4. a modal's submission does its own permission check -------------------------------------------------------------
async def test_a_members_forged_reason_submission_decides_nothing(drive: Driver, sandbox: Sandbox) -> None:
    form = await open_form(drive, "member", 2)
    await submit_form(drive, "member", form, Title="Hunt", **{"Your recap": "The boar."})
    await drive.as_("mod")
    await drive.reply("/recaps review")
    modal = await drive.ok(":click Reject with reason…")
    reason_form = sandbox.open_modal
    assert reason_form is not None and modal["response"]["type"] == 9

    # The old, predictable id (dw:recap-reason:<recap id>) reaches no form at all.
    record, data = reason_form
    guessed = await submit_form(drive, "member", (record, {**data, "custom_id": "dw:recap-reason:1"}), **{REASON: "x"})
    assert guessed["response"] is None

    # Even with the real id, a member's submission is refused, and shows her no review card.
    forged = await submit_form(drive, "member", reason_form, **{REASON: "forged"})
    assert forged["error"] is None
    answer = forged["response"]
    assert answer["ephemeral"] and "someone else" in answer["content"] and answer["embeds"] == []
    assert "1 of 1 waiting" in await waiting(drive)  # was: rejected, and the member got the moderators' card
    assert (await drive.ok(":dm alice"))["result"]["messages"] == []

    # The moderator's own form still works.
    done = await submit_form(drive, "mod", reason_form, **{REASON: "Please trim it"})
    assert done["error"] is None and "No recaps waiting" in text_of(done["response"])


async def test_a_moderator_who_lost_the_role_cannot_submit_the_open_form(drive: Driver, sandbox: Sandbox) -> None:
    form = await open_form(drive, "member", 2)
    await submit_form(drive, "member", form, Title="Hunt", **{"Your recap": "The boar."})
    await drive.as_("mod")
    await drive.reply("/recaps review")
    await drive.ok(":click Reject with reason…")
    reason_form = sandbox.open_modal
    assert reason_form is not None
    world = sandbox.world
    world.members[world.mina]["roles"] = []  # demoted while the form is open

    refused = await submit_form(drive, "mod", reason_form, **{REASON: "late"})
    assert refused["error"] is None and "for moderators" in refused["response"]["content"]
    assert "1 of 1 waiting" in await waiting(drive)  # was: rejected on the strength of the old button press


# -- the whole path of a hostile, maximum-length recap ---------------------------------------------------------------
HOSTILE = (
    "**bold** __under__ ~~gone~~ `code` ||early end|| \\ \\| |||| @everyone @here <@&1100000000000000002> "
    "<@1100000000000000101> <#1100000000000001002> <t:0:R> [click](https://evil.example/a_b*c||d) "
    "https://example.org/snake_case||x|| > quote # head - list 1. one *a* _b_ SECRET "
)


def check_message(message: dict[str, Any]) -> None:
    embeds = message.get("embeds") or []
    content = message.get("content") or ""
    assert embed_problems(embeds, content) == [], embed_problems(embeds, content)
    for text in texts_of(embeds, content):
        seen = read(text)
        assert seen.balanced, text
        assert seen.raw == [], (seen.raw, text)
        assert "SECRET" not in seen.plain, text
        assert "@everyone" not in text and "@here" not in text and "<@&" not in text


async def test_a_maximum_recap_full_of_markdown_goes_through_within_discords_limits(
    drive: Driver, sandbox: Sandbox
) -> None:
    body = (HOSTILE * 40)[:4000]
    title = ("*_~`|<@&1>@everyone[" * 10)[:100]
    for who in ("member", "admin", "mod"):
        form = await open_form(drive, who)
        thanks = await submit_form(drive, who, form, Title=title, **{"Your recap": body})
        assert thanks["error"] is None and "waits for a moderator" in thanks["response"]["content"]

    await drive.as_("mod")
    card = await drive.reply("/recaps review")
    check_message(card)
    assert "3 waiting" in text_of(card) and read(card["embeds"][0]["description"]).hidden[0].startswith("**bold**")
    for _ in range(3):
        approved = await drive.ok(":click Approve")
        check_message(approved["response"])

    await drive.as_("member")
    shown = await drive.reply("/recap queen-of-tears 6")
    check_message(shown)
    field = next(f["value"] for f in shown["embeds"][0]["fields"] if f["name"] == "Community recaps")
    assert field.count("by alice") + field.count("by sora") + field.count("by mina") == 3
    for message in (await drive.ok(":dm alice"))["result"]["messages"]:
        check_message(message)
