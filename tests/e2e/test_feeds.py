"""Recap feeds through the sandbox, against a feed server on loopback."""

from __future__ import annotations

import pytest

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver, text_of
from tests.e2e.feedserver import FeedServer


def recaps_channel(sb: Sandbox) -> list[dict]:
    return sb.world.messages[int(sb.world.channel_by_name("recaps")["id"])]


async def add_feed(drive: Driver, url: str, extra: str = "channel:#recaps") -> dict:
    await drive.as_("mod")
    return await drive.reply(f"/feeds add url:{url} {extra}")


async def test_first_poll_posts_nothing_then_new_item_once_and_recap_lists_it(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer
) -> None:
    feeds.add("dramabeans", "Queen of Tears: Episodes 1-2", summary="<p>Old news about <b>the wedding</b>.</p>")
    added = await add_feed(drive, feeds.url("dramabeans"))
    assert "Added feed #1" in added["content"] and "recorded, not posted" in added["content"]
    assert recaps_channel(sandbox) == []

    feeds.add(
        "dramabeans",
        "Queen of Tears: Episode 12",
        summary="<p>" + "Hae-in <i>finally</i> remembers. " * 30 + "</p><script>evil()</script>",
    )
    await drive.ok(":advance 15m")
    (post,) = recaps_channel(sandbox)
    embed = post["embeds"][0]
    assert embed["title"] == "Queen of Tears: Episode 12"
    assert embed["url"] == "http://example.test/dramabeans/2"
    assert embed["author"]["name"] == "A. Recapper"
    assert embed["description"].startswith("||Hae-in finally remembers.") and embed["description"].endswith("||")
    assert len(embed["description"]) <= 310 and "evil" not in embed["description"] and "<" not in embed["description"]
    assert "Queen of Tears · Episode 12" in embed["footer"]["text"]

    await drive.ok(":advance 15m")
    assert len(recaps_channel(sandbox)) == 1  # not again
    assert feeds.feed("dramabeans").conditional_hits >= 1  # the second poll was a 304

    recap = await drive.reply("/recap drama:queen-of-tears episode:12")
    assert "[Queen of Tears: Episode 12](http://example.test/dramabeans/2)" in text_of(recap)
    listed = await drive.reply("/feeds list")
    assert "posted 1" in listed["content"]


async def test_a_korean_title_is_posted_to_its_episode(drive: Driver, sandbox: Sandbox, feeds: FeedServer) -> None:
    await add_feed(drive, feeds.url("kr"))
    feeds.add("kr", "눈물의 여왕 13회 리뷰")
    await drive.ok(":advance 15m")
    (post,) = recaps_channel(sandbox)
    assert post["embeds"][0]["title"] == "눈물의 여왕 13회 리뷰"
    assert "Queen of Tears · Episode 13" in post["embeds"][0]["footer"]["text"]
    assert "눈물의 여왕 13회 리뷰" in text_of(await drive.reply("/recap queen-of-tears 13"))
    assert "No recap links yet" in text_of(await drive.reply("/recap queen-of-tears 12"))


async def test_ranges_and_finale_titles_match_and_unmatched_are_counted(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer
) -> None:
    await add_feed(drive, feeds.url("mix"))
    feeds.add("mix", "Queen of Tears: Episodes 3-4")
    feeds.add("mix", "Queen of Tears: Episode 16 (Final)")
    feeds.add("mix", "Ten reasons we love K-dramas")
    feeds.add("mix", "Tears of the Sun: Episode 2")  # another show: never guessed into Queen of Tears
    await drive.ok(":advance 15m")
    titles = [m["embeds"][0]["title"] for m in recaps_channel(sandbox)]
    assert titles == ["Queen of Tears: Episodes 3-4", "Queen of Tears: Episode 16 (Final)"]
    listed = await drive.reply("/feeds list")
    assert "unmatched 2" in listed["content"]
    for episode in (3, 4):
        assert "Episodes 3-4" in text_of(await drive.reply(f"/recap queen-of-tears {episode}"))


async def test_post_goes_into_the_episode_thread_when_it_exists(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer
) -> None:
    await drive.as_("mod")
    await drive.reply("/settings channel kind:discussions channel:#discussions")
    opened = await drive.reply("/discuss queen-of-tears 12")
    thread_id = int(opened["content"].split("<#")[1].split(">")[0])
    await add_feed(drive, feeds.url("threaded"))
    feeds.add("threaded", "Queen of Tears: Episode 12")
    await drive.ok(":advance 15m")
    assert recaps_channel(sandbox) == []
    posts = [m for m in sandbox.world.messages[thread_id] if m["embeds"] and m["embeds"][0].get("url")]
    assert [m["embeds"][0]["title"] for m in posts] == ["Queen of Tears: Episode 12"]


async def test_feed_test_previews_without_posting(drive: Driver, sandbox: Sandbox, feeds: FeedServer) -> None:
    feeds.add("preview", "Queen of Tears: Episode 5")
    feeds.add("preview", "Something else entirely")
    await drive.as_("mod")
    shown = await drive.reply(f"/feeds test url:{feeds.url('preview')}")
    assert "✅ Queen of Tears: Episode 5 → Queen of Tears episode 5" in shown["content"]
    assert "➖ Something else entirely" in shown["content"]
    assert recaps_channel(sandbox) == [] and feeds.feed("preview").hits == 1


@pytest.mark.parametrize(
    ("mode", "needle"),
    [
        ("malformed", "malformed"),
        ("truncated", "malformed or truncated"),
        ("html", "not an RSS or Atom feed"),
        ("huge", "2,097,152"),
        ("bomb", "after decompression"),
        ("500", "HTTP 500"),
    ],
)
async def test_bad_responses_get_a_clear_status_and_no_crash(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer, mode: str, needle: str
) -> None:
    feeds.add("bad", "Queen of Tears: Episode 1")
    await add_feed(drive, feeds.url("bad"))
    feeds.feed("bad").mode = mode
    feeds.add("bad", "Queen of Tears: Episode 2")
    await drive.ok(":advance 15m")
    listed = await drive.reply("/feeds list")
    assert needle in listed["content"], listed["content"]
    assert recaps_channel(sandbox) == []
    feeds.feed("bad").mode = "ok"  # it recovers on the next (backed-off) poll
    await drive.ok(":advance 1h")
    assert [m["embeds"][0]["title"] for m in recaps_channel(sandbox)] == ["Queen of Tears: Episode 2"]


async def test_feed_failing_five_times_is_disabled_and_mods_are_told(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer
) -> None:
    await drive.as_("mod")
    await drive.reply("/settings channel kind:mods channel:#mods")
    await add_feed(drive, feeds.url("flaky"))
    feeds.feed("flaky").mode = "500"
    await drive.ok(":advance 1d")  # backoff doubles: 15m, 30m, 1h, 2h, 4h
    listed = await drive.reply("/feeds list")
    assert "disabled" in listed["content"] and "5 failures in a row" in listed["content"]
    mods = [
        m for m in sandbox.world.messages[int(sandbox.world.channel_by_name("mods")["id"])] if "⚙️" not in m["content"]
    ]
    assert len(mods) == 1 and feeds.url("flaky") in mods[0]["content"] and "/feeds add" in mods[0]["content"]
    hits = feeds.feed("flaky").hits
    await drive.ok(":advance 1d")
    assert feeds.feed("flaky").hits == hits  # no more polls
    feeds.feed("flaky").mode = "ok"
    again = await drive.reply(f"/feeds add url:{feeds.url('flaky')}")
    assert "Turned back on" in again["content"]


async def test_gone_feed_is_disabled_at_once(drive: Driver, sandbox: Sandbox, feeds: FeedServer) -> None:
    await add_feed(drive, feeds.url("gone"))
    feeds.feed("gone").mode = "410"
    await drive.ok(":advance 15m")
    assert "disabled" in (await drive.reply("/feeds list"))["content"]


async def test_bad_urls_are_refused_with_a_reason(drive: Driver) -> None:
    await drive.as_("mod")
    for url, needle in [("ftp://example.test/feed", "http:// or https://"), ("http:///feed.xml", "no host")]:
        response = await drive.reply(f"/feeds add url:{url}")
        assert needle in response["content"], response["content"]


async def test_loopback_feed_refused_without_the_setting(tmp_path, feeds: FeedServer) -> None:
    sandbox = Sandbox(db_path=tmp_path / "b.db")
    await sandbox.start()
    try:
        sandbox.bot.feeds._fetcher.allow_private = False  # as in production without FEEDS_ALLOW_PRIVATE=1
        await sandbox.run_line(":as mod")
        result = await sandbox.run_line(f"/feeds add url:{feeds.url('private')}")
        assert "loopback, private" in result["response"]["content"]
        assert feeds.feed("private").hits == 0
        assert sandbox.violations == [] and sandbox.errors == []
    finally:
        await sandbox.close()


async def test_add_fetches_first_refuses_a_bad_url_and_finds_a_pages_feed(
    drive: Driver, sandbox: Sandbox, feeds: FeedServer
) -> None:
    await drive.as_("mod")
    feeds.feed("typo").mode = "404"
    refused = await drive.reply(f"/feeds add url:{feeds.url('typo')} channel:#recaps")
    assert "couldn't fetch it" in refused["content"] and "404" in refused["content"]
    assert "Nothing was saved" in refused["content"]
    assert "No feeds yet" in (await drive.reply("/feeds list"))["content"]  # unchanged

    lonely = await drive.reply(f"/feeds add url:{feeds.page_url('plain', [])} channel:#recaps")
    assert "links to no feed" in lonely["content"]

    feeds.add("blog", "Queen of Tears: Episode 1")
    page = feeds.page_url("blog", [("blog", "Blog recaps")])
    added = await drive.reply(f"/feeds add url:{page} channel:#recaps")
    assert "Added feed #1" in added["content"] and feeds.url("blog") in text_of(await drive.reply("/feeds list"))

    feeds.add("news", "Queen of Tears news")
    feeds.add("eps", "Queen of Tears: Episode 2")
    several = await drive.reply(
        f"/feeds add url:{feeds.page_url('two', [('news', 'All news'), ('eps', 'Episode recaps')])} channel:#recaps"
    )
    labels = [o["label"] for row in several["components"] for c in row["components"] for o in c.get("options", [])]
    assert labels == ["All news", "Episode recaps"]
    picked = await drive.ok(":pick Episode recaps")
    said = text_of(picked["response"]) + " ".join(text_of(f) for f in picked["followups"])
    assert "Added feed #2" in said
    listed = text_of(await drive.reply("/feeds list"))
    assert feeds.url("eps") in listed and feeds.url("news") not in listed
