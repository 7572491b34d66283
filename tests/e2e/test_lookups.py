"""/recap, /who, /drama and /progress through the sandbox, on the shipped starter packs."""

from __future__ import annotations

import re

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver, shipped, text_of

QOT_EP6_UTC = 1711282800  # 2024-03-24 21:20 KST (the mid-run slot; corrections-2026-12 §2)


async def test_recap_hides_the_synopsis_and_shows_the_air_time(drive: Driver, sandbox: Sandbox) -> None:
    response = await drive.reply("/recap drama:queen-of-tears episode:6")
    assert response["type"] == 4 and not response["ephemeral"]
    (embed,) = response["embeds"]
    synopsis = shipped().dramas["queen-of-tears"].episode(6).synopsis
    assert synopsis and embed["description"] == f"||{synopsis}||"
    assert embed["title"] == "Queen of Tears · Episode 6"
    assert f"<t:{QOT_EP6_UTC}:F>" in text_of(response)


async def test_recap_positional_and_typo(drive: Driver) -> None:
    exact = await drive.reply("/recap queen-of-tears 12")
    assert exact["embeds"][0]["title"] == "Queen of Tears · Episode 12"
    typo = await drive.reply("/recap drama:queen-of-teers episode:12")
    assert typo["embeds"][0]["title"] == "Queen of Tears · Episode 12"
    assert "queen-of-teers" in typo["content"]  # says what it guessed from
    far = await drive.reply('/recap drama:"queen tearz of" episode:1')
    assert far["ephemeral"]
    assert "Queen of Tears" in far["content"]


async def test_unknown_drama_gets_suggestions_or_a_pointer(drive: Driver) -> None:
    response = await drive.reply("/recap drama:zzzzqqqq episode:1")
    assert response["ephemeral"] and "No drama named zzzzqqqq" in response["content"]


async def test_episode_out_of_range_names_the_valid_range(drive: Driver) -> None:
    response = await drive.reply("/recap drama:queen-of-tears episode:17")
    assert response["ephemeral"]
    assert "1–16" in response["content"] and "`episode`" in response["content"]


async def test_episode_not_yet_aired_gives_its_air_time(tmp_path) -> None:
    from datetime import UTC, datetime

    async with Sandbox(db_path=tmp_path / "b.db", now=datetime(2024, 3, 23, 11, 0, tzinfo=UTC)) as sandbox:
        result = await sandbox.run_line("/recap drama:queen-of-tears episode:5")
        assert result["error"] is None
        response = result["response"]
        assert response["ephemeral"] and response["embeds"] == []
        assert "airs" in response["content"] and "<t:1711195800:F>" in response["content"]
        assert sandbox.violations == [] and sandbox.errors == []


async def test_autocomplete_lists_queen_of_tears_and_episodes(drive: Driver) -> None:
    choices = (await drive.ok(":type /recap drama:que"))["result"]["choices"]
    assert {"name": "Queen of Tears (2024)", "value": "queen-of-tears"} in choices
    episodes = (await drive.ok(":type /recap drama:queen-of-tears episode:1"))["result"]["choices"]
    assert [c["value"] for c in episodes] == [1, 10, 11, 12, 13, 14, 15, 16]
    people = (await drive.ok(":type /who name:hae"))["result"]["choices"]
    assert any(c["name"].startswith("Hong Hae-in") for c in people)
    assert all(len(c["name"]) <= 100 and len(str(c["value"])) <= 100 for c in choices + people)


async def test_who_finds_hae_in_by_slug_romanisation_and_hangul(drive: Driver) -> None:
    for query in ("hong-hae-in", "haein", '"Hae In"', "hae-in", "홍해인", '"Hong Hae in"'):
        response = await drive.reply(f"/who name:{query}")
        (embed,) = response["embeds"]
        assert embed["title"] == "Hong Hae-in (홍해인)", query
        assert "Kim Ji-won" in text_of(response)


async def test_who_a_person_lists_their_roles(drive: Driver) -> None:
    response = await drive.reply('/who name:"Kim Ji-won"')
    assert "Hong Hae-in" in text_of(response) and "Queen of Tears" in text_of(response)


async def test_who_ambiguous_name_offers_a_pick_list(drive: Driver) -> None:
    response = await drive.reply("/who name:hong")
    assert response["ephemeral"] and "pick one" in response["content"]
    select = response["components"][0]["components"][0]
    assert select["type"] == 3 and 2 <= len(select["options"]) <= 25


async def test_spoiler_facts_unlock_with_progress(drive: Driver, sandbox: Sandbox) -> None:
    locked = await drive.reply("/who name:hong-hae-in private:true")
    shield = next(f for f in locked["embeds"][0]["fields"] if f["name"] == "Spoiler shield")
    character = shipped().dramas["queen-of-tears"].characters["hong-hae-in"]
    hidden = len(character.facts) + sum(1 for r in character.relations if r.episode)  # later-revealed relations too
    first = min([f.episode for f in character.facts] + [r.episode for r in character.relations if r.episode])
    assert (
        f"{hidden} more facts are hidden until you've watched further: the next with episode {first}" in shield["value"]
    )
    assert "What you've seen" not in text_of(locked)

    saved = await drive.reply("/progress set drama:queen-of-tears episode:16")
    assert saved["ephemeral"] and "16" in saved["content"]
    unlocked = await drive.reply("/who name:hong-hae-in private:true")
    text = text_of(unlocked)
    assert "Spoiler shield" not in text
    assert character.facts[0].text in text  # plain: only the asker sees this reply

    public = await drive.reply("/who name:hong-hae-in")
    assert f"||{character.facts[0].text}||" in text_of(public)  # a shared reply keeps the spoiler bars


async def test_recap_private_with_progress_is_plain_public_stays_hidden(drive: Driver, sandbox: Sandbox) -> None:
    synopsis = shipped().dramas["queen-of-tears"].episode(3).synopsis
    await drive.reply("/progress set queen-of-tears 2")
    not_yet = await drive.reply("/recap queen-of-tears 3 private:true")
    assert not_yet["embeds"][0]["description"] == f"||{synopsis}||"  # progress does not cover episode 3
    await drive.reply("/progress set queen-of-tears 3")
    mine = await drive.reply("/recap queen-of-tears 3 private:true")
    assert mine["ephemeral"] and mine["embeds"][0]["description"] == synopsis
    shared = await drive.reply("/recap queen-of-tears 3")
    assert shared["embeds"][0]["description"] == f"||{synopsis}||"


async def test_progress_show_and_clear_are_per_member(drive: Driver) -> None:
    await drive.reply("/progress set queen-of-tears 4")
    shown = await drive.reply("/progress show")
    assert shown["ephemeral"] and "episode 4/16" in text_of(shown)
    await drive.as_("mod")
    assert "Nothing set yet" in text_of(await drive.reply("/progress show"))
    await drive.as_("member")
    cleared = await drive.reply("/progress clear queen-of-tears")
    assert "Cleared" in cleared["content"]
    assert "Nothing set yet" in text_of(await drive.reply("/progress show"))
    refused = await drive.reply("/progress set queen-of-tears 17")
    assert "1–16" in refused["content"]


async def test_drama_overview(drive: Driver) -> None:
    response = await drive.reply("/drama drama:qot")
    text = text_of(response)
    assert response["embeds"][0]["title"] == "Queen of Tears (눈물의 여왕)"
    premise = shipped().dramas["queen-of-tears"].premise  # as the pack says it
    assert premise and response["embeds"][0]["description"] == premise
    for needle in ("tvN", "Netflix", "Kim Ji-won", "Episodes (16)", "Park Ji-eun"):
        assert needle in text
    assert len(re.findall(r"<t:\d+:f>", text)) == 16


TANGERINES_EP5_UTC = 1741935600  # 2025-03-14 16:00 KST: Netflix's midnight US Pacific drop (corrections §4)


async def test_streaming_release_pack_shows_release_times(drive: Driver) -> None:
    response = await drive.reply('/drama drama:"When Life Gives You Tangerines"')
    text = text_of(response)
    assert "Episodes (16)" in text and f"**5** · <t:{TANGERINES_EP5_UTC}:f>" in text
    recap = text_of(await drive.reply("/recap when-life-gives-you-tangerines 5"))
    assert f"Released\n<t:{TANGERINES_EP5_UTC}:F>" in recap, recap


async def test_who_pick_list_selection_shows_the_card(drive: Driver, sandbox: Sandbox) -> None:
    response = await drive.reply("/who name:hong")
    select = response["components"][0]["components"][0]
    value = next(o["value"] for o in select["options"] if "Hong Hae-in" in o["label"])
    result = await sandbox.select(select["custom_id"], [value])
    assert result["error"] is None
    assert result["response"]["type"] == 7
    assert result["response"]["embeds"][0]["title"] == "Hong Hae-in (홍해인)"


def _long_pack(folder, episodes: int = 45) -> None:
    lines = [
        "[drama]",
        'slug = "long-river"',
        'title = "Long River"',
        "year = 2023",
        'timezone = "Asia/Seoul"',
        'air_time = "20:00"',
        f"episode_count = {episodes}",
        "",
    ]
    for n in range(1, episodes + 1):
        day = f"2023-{1 + (n - 1) // 28:02d}-{1 + (n - 1) % 28:02d}"
        lines += ["[[episodes]]", f"number = {n}", f'air_date = "{day}"', ""]
    (folder / "long-river.toml").write_text("\n".join(lines), encoding="utf-8")


async def test_long_episode_lists_page_with_buttons_that_survive_a_restart(tmp_path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    _long_pack(packs)
    async with Sandbox(db_path=tmp_path / "b.db", catalog_path=packs) as sandbox:
        first = (await sandbox.run_line("/drama long-river"))["response"]
        assert "page 1/3" in text_of(first)
        labels = [c["label"] for row in first["components"] for c in row["components"]]
        assert labels == ["◀ Previous", "Next ▶"]
        await sandbox.restart_bot()
        second = await sandbox.run_line(":click Next ▶")
        assert second["error"] is None and second["response"]["type"] == 7
        assert "page 2/3" in text_of(second["response"]) and "**21** ·" in text_of(second["response"])
        assert sandbox.errors == [] and sandbox.violations == []
