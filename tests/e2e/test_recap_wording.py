"""/recap for an aired episode with no synopsis: it says so plainly and credits no source.

A footer credit ("Synopsis: Dramawatch researched facts") belongs only under text from that source.
"""

from __future__ import annotations

from pathlib import Path

from bot.catalog import load_catalog
from bot.client import discover_extensions
from bot.sandbox.harness import Sandbox
from bot.ui.catalog import recap_embed
from tests.e2e.conftest import DEFAULT_NOW, PROBE, text_of

PACK = """\
[drama]
slug = "tide-clock"
title = "Tide Clock"
year = 2024
timezone = "Asia/Seoul"
air_time = "21:00"
episode_count = 3

[[sources]]
id = "dramawatch"
name = "Dramawatch researched facts"
licence = "Project's own text (MIT)"

[[episodes]]
number = 1
air_date = "2024-03-09"
synopsis = "A lighthouse keeper's clock runs backwards."
source = "dramawatch"

[[episodes]]
number = 2
air_date = "2024-03-10"
synopsis = ""
source = "dramawatch"

[[episodes]]
number = 3
air_date = "2024-03-16"
"""
NO_SYNOPSIS = "No synopsis for this episode yet."


def write_pack(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "tide-clock.toml").write_text(PACK, encoding="utf-8")
    return folder


async def test_recap_without_a_synopsis_credits_no_source(tmp_path: Path) -> None:
    sandbox = Sandbox(
        db_path=tmp_path / "bot.db",
        now=DEFAULT_NOW,
        extensions=[*discover_extensions(), PROBE],
        catalog_path=write_pack(tmp_path),
    )
    async with sandbox:
        for episode in (2, 3):  # sourced but empty; neither source nor synopsis
            result = await sandbox.run_line(f"/recap drama:tide-clock episode:{episode}")
            assert result["error"] is None, result["error"]
            response = result["response"]
            (embed,) = response["embeds"]
            assert embed["title"] == f"Tide Clock · Episode {episode}"
            assert embed["description"] == NO_SYNOPSIS
            assert embed.get("footer") is None, embed["footer"]
            shown = text_of(response)
            assert "researched" not in shown and "Dramawatch" not in shown and "Synopsis:" not in shown
            assert "spoilers hidden" not in shown

        # With text, its source is still credited.
        written = (await sandbox.run_line("/recap drama:tide-clock episode:1"))["response"]["embeds"][0]
        assert written["description"] == "||A lighthouse keeper's clock runs backwards.||"
        assert written["footer"]["text"] == "Synopsis: Dramawatch researched facts · spoilers hidden: click to reveal"
        errors, violations = list(sandbox.errors), list(sandbox.violations)
    assert not errors, f"the bot reported errors: {errors}"
    assert not violations, f"requests broke Discord's OpenAPI spec: {violations}"


def test_recap_embed_without_a_synopsis_has_no_footer(tmp_path: Path) -> None:
    catalog, problems = load_catalog([write_pack(tmp_path)])
    assert problems == []
    drama = catalog.dramas["tide-clock"]
    for number in (2, 3):
        for plain in (False, True):
            embed = recap_embed(drama, drama.episode(number), plain=plain, recap_links=["https://example.org/r"])
            assert embed.description == NO_SYNOPSIS
            assert embed.footer.text is None  # no credit, and nothing hidden to click
    sourced = recap_embed(drama, drama.episode(1), plain=True)
    assert sourced.footer.text == "Synopsis: Dramawatch researched facts"
