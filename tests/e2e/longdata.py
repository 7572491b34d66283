"""Long-data fixtures for the end-to-end tests: the longest inputs Discord's limits must survive.

- a drama whose slug has 96 characters and whose title has 100 (the most a pack allows), with
  100-character episode titles, airing around the tests' default clock (2026-11-27);
- a feed with 10 recaps of one episode (10 recap links on `/recap`);
- 20 watch parties of that drama (long titles in `/watchparty list` and the autocomplete).

`checked_long_sandbox` is `checked_sandbox` over the shipped packs plus this one.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from bot.client import discover_extensions
from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import DEFAULT_NOW, PROBE

REPO = Path(__file__).resolve().parents[2]
LONG_SLUG = "the-extraordinarily-long-and-winding-chronicle-of-the-moonlit-palace-and-its-ninety-nine-secrets"
LONG_TITLE = "The Extraordinarily Long and Winding Chronicle of the Moonlit Palace and Its Ninety-Nine Secret Door"
LONG_ALIAS = "Moonlit Palace"
EPISODES = 24
assert len(LONG_SLUG) >= 90 and len(LONG_TITLE) == 100


def episode_title(number: int) -> str:
    text = f"In which the {number}th door opens onto a corridor of mirrors, lanterns and old promises kept"
    return (text + " at last, far too late for anyone")[:100]


def write_long_pack(folder: Path) -> Path:
    """The long drama: weekly on Fridays and Saturdays 21:00 KST (12:00 UTC), from 2026-11-06, so on
    the default clock (2026-11-27 00:00 UTC) episodes 1-6 have aired and 7-24 are to come."""
    lines = [
        "[drama]",
        f'slug = "{LONG_SLUG}"',
        f'title = "{LONG_TITLE}"',
        f'aliases = ["{LONG_ALIAS}"]',
        "year = 2026",
        'timezone = "Asia/Seoul"',
        'air_time = "21:00"',
        "runtime_minutes = 70",
        f"episode_count = {EPISODES}",
        'premise = "A palace with ninety-nine doors, and a keeper who must open every one of them."',
        "",
    ]
    day = datetime(2026, 11, 6)
    for n in range(1, EPISODES + 1):
        aired = day.toordinal() + 7 * ((n - 1) // 2) + (n - 1) % 2
        date = datetime.fromordinal(aired).strftime("%Y-%m-%d")
        lines += [
            "[[episodes]]",
            f"number = {n}",
            f'air_date = "{date}"',
            f'title = "{episode_title(n)}"',
            f'synopsis = "Door {n} opens; what waits behind it changes the keeper\'s plans."',
            "",
        ]
    path = folder / f"{LONG_SLUG}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def packs_with_long_drama(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    folder.mkdir(exist_ok=True)
    for pack in (REPO / "data" / "packs").glob("*.toml"):
        shutil.copy(pack, folder / pack.name)
    write_long_pack(folder)
    return folder


@asynccontextmanager
async def checked_long_sandbox(tmp_path: Path, now: datetime = DEFAULT_NOW) -> AsyncIterator[Sandbox]:
    """A started sandbox + bot over the shipped packs and the long one; fails on any error or violation."""
    sb = Sandbox(
        db_path=tmp_path / "bot.db",
        now=now,
        extensions=[*discover_extensions(), PROBE],
        catalog_path=packs_with_long_drama(tmp_path),
    )
    await sb.start()
    try:
        yield sb
    finally:
        errors, violations = list(sb.errors), list(sb.violations)
        await sb.close()
    assert not errors, f"the bot reported errors: {errors}"
    assert not violations, f"requests broke Discord's rules: {violations}"
