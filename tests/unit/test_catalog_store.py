"""The compiled catalog: a start parses only the packs that changed and reuses the stored index."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.catalog import CatalogError, CatalogIndex, load_catalog
from bot.catalog.search import LayeredIndex
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
    # One pack parsed, not the catalog; the stored index is reused with the edited drama layered over it.
    assert edited_start.parsed == 1 and not edited_start.index_built
    assert edited_start.layered == {"moonlit-orchard"} and isinstance(edited_start.index, LayeredIndex)
    assert edited_start.catalog.dramas["moonlit-orchard"].title == "Moonlit Orchard Redux"
    index = edited_start.index
    assert [h.target for h in index.dramas.lookup("redux")] == [("drama", "moonlit-orchard")]
    assert [h.target for h in index.dramas.lookup("paper lanterns")] == [("drama", "paper-lanterns")]  # the base
    labels = [h.label for h in index.dramas.complete("")]
    assert labels.count("Moonlit Orchard Redux (2024)") == 1 and not any(
        lb.startswith("Moonlit Orchard (") for lb in labels
    )
    assert {t[0] for t in index.who_in("moonlit-orchard")} >= {"character"}


async def test_a_layered_index_answers_as_a_rebuilt_one_would(db: Database, packs: Path) -> None:
    await open_catalog(db, packs)
    (packs / MOONLIT.name).write_text(
        edited(MOONLIT, 'title = "Moonlit Orchard"', 'title = "Moonlit Orchard Redux"'), encoding="utf-8"
    )
    layered = (await open_catalog(db, packs)).index
    rebuilt = CatalogIndex(load_catalog([packs])[0])
    for query in ("moon", "moonlit", "redux", "orchard redux", "paper", "lantern", "", "mnlit", "pa"):
        assert [h.target for h in layered.dramas.complete(query)] == [
            h.target for h in rebuilt.dramas.complete(query)
        ], query
        assert [h.target for h in layered.dramas.lookup(query)] == [h.target for h in rebuilt.dramas.lookup(query)], (
            query
        )
    for query in ("", "a", "s", "han", "lee", "hna ji", "kagn", "leee seo", "oh tea"):
        assert [h.target for h in layered.who.complete(query)] == [h.target for h in rebuilt.who.complete(query)], query


async def test_a_removed_pack_leaves_the_catalog(db: Database, packs: Path) -> None:
    await open_catalog(db, packs)
    (packs / LANTERNS.name).unlink()
    opened = await open_catalog(db, packs)
    assert set(opened.catalog.dramas) == {"moonlit-orchard"}
    assert opened.index.dramas.lookup("paper lanterns") == [] and opened.index.dramas.complete("paper") == []
    rows = await db.fetchall("SELECT slug FROM catalog_packs")
    assert [r["slug"] for r in rows] == ["moonlit-orchard"]


async def test_an_invalid_pack_stops_the_start_and_names_the_problem(db: Database, packs: Path) -> None:
    (packs / MOONLIT.name).write_text(edited(MOONLIT, "year = 2024", 'year = "soon"'), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        await open_catalog(db, packs)
    assert any("moonlit-orchard.toml" in p and "year" in p for p in raised.value.problems)


def age(folder: Path, when: int) -> None:
    for file in folder.glob("*.toml"):
        os.utime(file, (when, when))


async def test_an_unchanged_pack_file_is_not_read_again_and_a_recent_one_always_is(
    db: Database, packs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose modification time and size are those stored when it was compiled is not read at
    a start; a file modified in the last two seconds (its clock tick may not be over) always is."""
    old = 1_700_000_000
    age(packs, old)
    await open_catalog(db, packs)  # compiles both, stores their stamps
    moonlit = packs / MOONLIT.name
    moonlit.write_text(
        edited(MOONLIT, 'title = "Moonlit Orchard"', 'title = "Moonlit Orchard Redux"'), encoding="utf-8"
    )
    reads: list[str] = []
    read_text = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self.name)
        return read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    opened = await open_catalog(db, packs)
    assert reads == [MOONLIT.name]  # the edited pack only; paper-lanterns came from its stamp
    assert opened.parsed == 1 and opened.catalog.dramas["moonlit-orchard"].title == "Moonlit Orchard Redux"
    reads.clear()
    again = await open_catalog(db, packs)
    assert reads == [MOONLIT.name] and again.parsed == 0  # still recent: read (and hashed) again, not parsed
    os.utime(moonlit, (old + 60, old + 60))
    await open_catalog(db, packs)  # settled now: its stamp is stored
    reads.clear()
    await open_catalog(db, packs)
    assert reads == []


async def test_compiled_rows_are_read_a_page_at_a_time(db: Database, packs: Path) -> None:
    """A start never holds every compiled pack's bytes at once: they come in pages of `page` rows,
    and together the pages are every row once."""
    from bot.storage.catalog import CatalogRepo

    for i in range(5):  # seven packs in all
        (packs / f"copy-{i}.toml").write_text(
            edited(LANTERNS, 'slug = "paper-lanterns"', f'slug = "paper-lanterns-{i}"'), encoding="utf-8"
        )
    await open_catalog(db, packs)
    repo = CatalogRepo(db)
    pages = [page async for page in repo.compiled(page=3)]
    assert [len(p) for p in pages] == [3, 3, 1]
    slugs = [slug for page in pages for slug, _blob in page]
    assert slugs == sorted({h.slug for h in await repo.heads()}) and len(set(slugs)) == 7
    assert all(blob for page in pages for _slug, blob in page)
    assert all(h.compiled == b"" for h in await repo.heads())  # the heads leave the bytes out


async def test_read_back_packs_share_their_strings_and_the_catalogs_people(db: Database, packs: Path) -> None:
    """Equal short strings of a pack are one object once read back (a character's slug in its cast
    entry and in the relations to it), and the units kept hold the catalog's own Person objects."""
    (packs / "sequel.toml").write_text(  # its people are paper-lanterns' own, alike
        edited(LANTERNS, 'slug = "paper-lanterns"', 'slug = "paper-lanterns-2"'), encoding="utf-8"
    )
    await open_catalog(db, packs)
    opened = await open_catalog(db, packs)  # read back from the compiled rows
    assert opened.parsed == 0
    drama = opened.catalog.dramas["moonlit-orchard"]
    by_slug = {c.slug: c for c in drama.characters.values()}
    shared = [
        (entry.character, by_slug[entry.character].slug) for entry in drama.cast if entry.character in by_slug
    ] + [(r.to, by_slug[r.to].slug) for c in drama.characters.values() for r in c.relations if r.to in by_slug]
    assert shared and all(a is b for a, b in shared)
    assert all(c.drama is drama.slug for c in drama.characters.values())
    people = [p for unit, _key in opened.units.values() for p in unit.people]
    held = opened.catalog.people
    assert all(p is held[p.slug] for p in people if p == held[p.slug])
    assert len([p for p in people if p.slug == "baek-ha-neul"]) == 2  # in two packs, alike: held once


async def test_a_pack_that_takes_another_slug_leaves_nothing_of_the_old_one(db: Database, packs: Path) -> None:
    from bot.storage.catalog import CatalogRepo

    await open_catalog(db, packs)
    (packs / MOONLIT.name).write_text(
        edited(MOONLIT, 'slug = "moonlit-orchard"', 'slug = "aa-orchard"'), encoding="utf-8"
    )
    opened = await open_catalog(db, packs)
    assert set(opened.catalog.dramas) == {"aa-orchard", "paper-lanterns"}
    repo = CatalogRepo(db)
    assert {h.slug for h in await repo.heads()} == {"aa-orchard", "paper-lanterns"}
    assert await repo.texts("moonlit-orchard", "e:1") == ("", "")  # its texts went with its row
    assert (await repo.texts("aa-orchard", "e:1"))[0]
    assert (await open_catalog(db, packs)).parsed == 0  # not parsed again at every start


async def test_an_index_stored_in_another_form_is_rebuilt_without_recompiling_the_packs(
    db: Database, packs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import live_catalog
    from bot.catalog import store

    await open_catalog(db, packs)
    monkeypatch.setattr(store, "INDEX_FORMAT", store.INDEX_FORMAT + 1)  # as after an upgrade of the index's form
    read: list[bytes] = []
    unpack = live_catalog.unpack_index
    monkeypatch.setattr(live_catalog, "unpack_index", lambda blob: read.append(blob) or unpack(blob))
    upgraded = await open_catalog(db, packs)
    assert read == []  # the old form is never unpickled into the new class
    assert upgraded.parsed == 0 and upgraded.index_built
    assert [h.target for h in upgraded.index.dramas.lookup("moonlit")] == [("drama", "moonlit-orchard")]
    again = await open_catalog(db, packs)
    assert len(read) == 1 and not again.index_built  # once rebuilt in the new form, it is read back
