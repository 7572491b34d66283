"""Helpers for the catalog tests: the two invented good packs, and packs written into tmp_path."""

from __future__ import annotations

from pathlib import Path

from bot.catalog import Catalog, CatalogIndex, load_catalog
from bot.lookups import Lookups

GOOD = Path(__file__).parent / "fixtures" / "packs" / "good"
MOONLIT = GOOD / "moonlit-orchard.toml"
LANTERNS = GOOD / "paper-lanterns.toml"


def load_good() -> Catalog:
    catalog, problems = load_catalog([GOOD])
    assert problems == []
    return catalog


def good_lookups() -> Lookups:
    catalog = load_good()
    return Lookups(catalog, CatalogIndex(catalog))


def edited(path: Path, old: str, new: str) -> str:
    """A good pack's text with `old` (which must occur exactly once) replaced by `new`."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    return text.replace(old, new)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def long_pack(slug: str, episodes: int, *, title: str = "Long River") -> str:
    """A valid pack with `episodes` daily episodes at 20:00 Asia/Seoul, from 2024-01-01."""
    lines = [
        "[drama]",
        f'slug = "{slug}"',
        f'title = "{title}"',
        "year = 2024",
        'timezone = "Asia/Seoul"',
        'air_time = "20:00"',
        f"episode_count = {episodes}",
    ]
    for n in range(1, episodes + 1):
        lines += ["[[episodes]]", f"number = {n}", f"air_date = 2024-{1 + (n - 1) // 28:02d}-{1 + (n - 1) % 28:02d}"]
    return "\n".join(lines) + "\n"
