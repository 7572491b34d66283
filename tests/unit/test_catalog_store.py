"""The compiled catalog: a start parses only the packs that changed and reuses the stored index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.catalog import CatalogError
from bot.live_catalog import open_catalog
from bot.storage import Database
from tests.unit.packs import GOOD, LANTERNS, MOONLIT, edited


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    shutil.copytree(GOOD, folder)
    return folder


async def test_first_start_parses_everything_then_nothing_until_a_pack_changes(db: Database, packs: Path) -> None:
    first = await open_catalog(db, packs)
    assert first.parsed == 2 and first.index_built
    assert set(first.catalog.dramas) == {"moonlit-orchard", "paper-lanterns"}

    again = await open_catalog(db, packs)
    assert again.parsed == 0 and not again.index_built  # all compiled, the index reused
    assert again.catalog.dramas["moonlit-orchard"] == first.catalog.dramas["moonlit-orchard"]
    assert [h.target for h in again.index.dramas.lookup("moonlit")] == [("drama", "moonlit-orchard")]

    (packs / MOONLIT.name).write_text(
        edited(MOONLIT, 'title = "Moonlit Orchard"', 'title = "Moonlit Orchard Redux"'), encoding="utf-8"
    )
    edited_start = await open_catalog(db, packs)
    assert edited_start.parsed == 1 and edited_start.index_built  # one pack, not the catalog
    assert edited_start.catalog.dramas["moonlit-orchard"].title == "Moonlit Orchard Redux"
    assert [h.target for h in edited_start.index.dramas.lookup("redux")] == [("drama", "moonlit-orchard")]


async def test_a_removed_pack_leaves_the_catalog(db: Database, packs: Path) -> None:
    await open_catalog(db, packs)
    (packs / LANTERNS.name).unlink()
    opened = await open_catalog(db, packs)
    assert set(opened.catalog.dramas) == {"moonlit-orchard"}
    rows = await db.fetchall("SELECT slug FROM catalog_packs")
    assert [r["slug"] for r in rows] == ["moonlit-orchard"]


async def test_an_invalid_pack_stops_the_start_and_names_the_problem(db: Database, packs: Path) -> None:
    (packs / MOONLIT.name).write_text(edited(MOONLIT, "year = 2024", 'year = "soon"'), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        await open_catalog(db, packs)
    assert any("moonlit-orchard.toml" in p and "year" in p for p in raised.value.problems)
