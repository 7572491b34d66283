"""The catalog's long texts held apart: a drama is kept without its synopses (in the database) and
with its characters' descriptions and facts compressed; whatever shows them has them filled back in —
the same texts, for every drama."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.catalog.texts import character_texts_of, split_texts, with_character_texts, with_episode_texts
from bot.live_catalog import open_catalog
from bot.lookups import Lookups
from bot.storage import Database
from bot.storage.catalog import CatalogRepo
from tests.unit.packs import GOOD, load_good

FULL = load_good()


@pytest.mark.parametrize("slug", sorted(FULL.dramas))
def test_split_texts_then_filling_in_gives_the_drama_back(slug: str) -> None:
    drama = FULL.dramas[slug]
    slim, rows = split_texts(drama)
    assert slim.texts_apart and slim.premise == drama.premise  # a premise is short: it stays
    assert not any(e.synopsis or e.tvmaze_summary for e in slim.episodes)
    assert not any(c.description or c.facts for c in slim.characters.values())
    stored = {part: (body, extra) for part, body, extra in rows}
    assert len(stored) == len(rows)  # one row per part
    for e_slim, e in zip(slim.episodes, drama.episodes, strict=True):
        assert with_episode_texts(e_slim, *stored.get(f"e:{e.number}", ("", ""))) == e
    for key, c in drama.characters.items():
        assert with_character_texts(slim.characters[key], *character_texts_of(slim, key)) == c
    assert character_texts_of(slim, "nobody") == ("", ())
    assert any(c.facts for c in drama.characters.values())  # the fixture has facts to carry


class CountingSource:
    def __init__(self, repo: CatalogRepo) -> None:
        self.repo = repo
        self.reads: list[tuple[str, str]] = []

    async def texts(self, drama: str, part: str) -> tuple[str, str]:
        self.reads.append((drama, part))
        return await self.repo.texts(drama, part)


async def test_the_running_catalog_holds_no_long_texts_and_reads_them_once(db: Database, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(GOOD, packs)
    for opened in (await open_catalog(db, packs), await open_catalog(db, packs)):  # compiled, then read back
        source = CountingSource(CatalogRepo(db))
        lookups = Lookups(opened.catalog, opened.index, source)
        for slug, full in FULL.dramas.items():
            slim = opened.catalog.dramas[slug]
            assert slim.texts_apart and not any(e.synopsis for e in slim.episodes)
            for episode in slim.episodes:
                assert await lookups.episode_texts(slim, episode) == full.episodes[episode.number - 1]
            for key, character in slim.characters.items():
                assert not character.description
                assert lookups.character_texts(slim, character) == full.characters[key]  # from memory
        first = list(source.reads)
        assert len(first) == len(set(first)) > 0 and all(part.startswith("e:") for _drama, part in first)
        for slug in FULL.dramas:  # asked again: kept
            slim = opened.catalog.dramas[slug]
            for episode in slim.episodes:
                await lookups.episode_texts(slim, episode)
        assert source.reads == first


async def test_a_catalog_given_whole_reads_nothing_and_a_changed_drama_is_read_again(db: Database) -> None:
    reads: list[str] = []

    class Source:
        async def texts(self, drama: str, part: str) -> tuple[str, str]:
            reads.append(part)
            return (f"synopsis {len(reads)}", "")

    drama = FULL.dramas["moonlit-orchard"]
    whole = Lookups(FULL, None, Source())  # type: ignore[arg-type]
    assert await whole.episode_texts(drama, drama.episodes[0]) is drama.episodes[0] and reads == []
    slim, _rows = split_texts(drama)
    lookups = Lookups(FULL, None, Source())  # type: ignore[arg-type]
    assert (await lookups.episode_texts(slim, slim.episodes[0])).synopsis == "synopsis 1"
    assert (await lookups.episode_texts(slim, slim.episodes[0])).synopsis == "synopsis 1"
    changed, _rows = split_texts(drama)  # a refresh swaps in new objects: what was kept is not used
    assert (await lookups.episode_texts(changed, changed.episodes[0])).synopsis == "synopsis 2"
    with pytest.raises(RuntimeError, match="texts are held apart"):
        await Lookups(FULL, None).episode_texts(slim, slim.episodes[1])  # type: ignore[arg-type]
