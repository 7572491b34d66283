"""/feeds unmatched (assign by hand, dismiss) and /feeds edit (post template, title filters)."""

from __future__ import annotations

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver, text_of
from tests.e2e.feedserver import FeedServer
from tests.e2e.test_feeds import add_feed, recaps_channel


def said(result: dict) -> str:
    parts = [text_of(result["response"])] if result.get("response") else []
    return "\n".join(parts + [text_of(f) for f in result.get("followups") or []])


def options(response: dict) -> list[str]:
    return [o["label"] for row in response["components"] for c in row["components"] for o in c.get("options", [])]


async def test_unmatched_item_assigned_by_hand_is_posted_once_even_after_restart(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer
) -> None:
    await add_feed(drive, feeds.url("loose"))
    feeds.add("loose", "Crying over the hospital scene, again")
    feeds.add("loose", "Ten reasons we love K-dramas")
    await drive.ok(":advance 15m")
    assert recaps_channel(sandbox) == []

    listed = await drive.reply("/feeds unmatched")
    labels = options(listed)
    assert labels[:2] == ["Ten reasons we love K-dramas", "Crying over the hospital scene, again"]  # newest first
    await drive.ok(":pick Crying over the hospital scene, again")
    bad = await drive.line(':submit Drama="Nonexistent Show Zzz" "Episode or range"="5"')
    assert "`drama`" in said(bad), bad
    await drive.ok(":pick Crying over the hospital scene, again")
    bad = await drive.line(':submit Drama="Queen of Tears" "Episode or range"="99"')
    assert "`episode`" in said(bad) and "1–16" in said(bad), bad
    assert recaps_channel(sandbox) == []

    await drive.ok(":pick Crying over the hospital scene, again")
    done = await drive.ok(':submit Drama="Queen of Tears" "Episode or range"="5-6"')
    assert "Assigned to Queen of Tears episodes 5–6 and posted" in said(done)
    (post,) = recaps_channel(sandbox)
    assert post["embeds"][0]["title"] == "Crying over the hospital scene, again"
    assert "Queen of Tears · Episodes 5–6" in post["embeds"][0]["footer"]["text"]
    assert "Crying over the hospital scene" in text_of(await drive.reply("/recap queen-of-tears 6"))

    await drive.ok(":restart")
    await drive.ok(":advance 30m")
    assert len(recaps_channel(sandbox)) == 1  # not again
    await drive.as_("mod")
    assert options(await drive.reply("/feeds unmatched"))[:1] == ["Ten reasons we love K-dramas"]


async def test_assign_rechecks_the_moderator_on_submit(drive: Driver, sandbox: Sandbox, feeds: FeedServer) -> None:
    await add_feed(drive, feeds.url("perm"))
    feeds.add("perm", "Crying over the hospital scene, again")
    await drive.ok(":advance 15m")
    await drive.reply("/feeds unmatched")
    await drive.ok(":pick Crying over the hospital scene, again")
    sandbox.world.members[sandbox.world.mina]["roles"] = []  # demoted while the form is open
    refused = await drive.line(':submit Drama="Queen of Tears" "Episode or range"="5"')
    assert "moderator" in said(refused).lower(), refused
    assert recaps_channel(sandbox) == []


async def test_dismissed_item_is_not_listed_again(drive: Driver, sandbox: Sandbox, feeds: FeedServer) -> None:
    await add_feed(drive, feeds.url("dismiss"))
    feeds.add("dismiss", "Ten reasons we love K-dramas")
    await drive.ok(":advance 15m")
    assert options(await drive.reply("/feeds unmatched")) == [
        "Ten reasons we love K-dramas",
        "Dismiss: Ten reasons we love K-dramas",
    ]
    dismissed = await drive.ok(":pick Dismiss: Ten reasons we love K-dramas")
    assert "Dismissed" in said(dismissed)
    again = await drive.reply("/feeds unmatched")
    assert "No unmatched feed items" in again["content"] and not again.get("components")
    assert recaps_channel(sandbox) == []


async def test_template_previews_on_save_and_shapes_the_next_post(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer
) -> None:
    feeds.add("tpl", "Queen of Tears: Episode 1")
    await add_feed(drive, feeds.url("tpl"))
    saved = await drive.reply('/feeds edit feed:1 template:"{title} — {author}"')
    assert "Queen of Tears: Episode 1 — A. Recapper" in saved["content"], saved["content"]
    assert "template:" in (await drive.reply("/feeds list"))["content"]

    feeds.add("tpl", "Queen of Tears: Episode 2 *bold* @everyone")
    await drive.ok(":advance 15m")
    (post,) = recaps_channel(sandbox)
    assert post["content"] == "Queen of Tears: Episode 2 \\*bold\\* @\u200beveryone — A. Recapper"
    assert post["embeds"][0]["title"].startswith("Queen of Tears: Episode 2")


async def test_bad_template_is_refused_naming_the_option(drive: Driver, feeds: FeedServer) -> None:
    await add_feed(drive, feeds.url("badtpl"))
    for template in ("{title} {plot}", "{title", "{title!r}"):
        refused = await drive.reply(f'/feeds edit feed:1 template:"{template}"')
        assert "`template`" in refused["content"] and "{author}" in refused["content"], refused["content"]
    assert "template:" not in (await drive.reply("/feeds list"))["content"]


async def test_include_and_exclude_filters_keep_and_skip_items(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer
) -> None:
    await add_feed(drive, feeds.url("filt"))
    edited = await drive.reply('/feeds edit feed:1 include:"recap, Episode" exclude:PREVIEW')
    assert "filters:" in edited["content"]
    feeds.add("filt", "Queen of Tears: Episode 3")
    feeds.add("filt", "Queen of Tears: Episode 4 preview")
    feeds.add("filt", "Queen of Tears 5 thoughts")  # matches an episode, but has no include word
    await drive.ok(":advance 15m")
    assert [m["embeds"][0]["title"] for m in recaps_channel(sandbox)] == ["Queen of Tears: Episode 3"]
    listed = (await drive.reply("/feeds list"))["content"]
    assert "filtered 2" in listed and "unmatched 0" in listed, listed
    assert "No unmatched feed items" in (await drive.reply("/feeds unmatched"))["content"]
