"""bot.storage.progress: each member's last watched episode per drama, per server (real SQLite)."""

from __future__ import annotations

import pytest

from bot.storage import Database
from bot.storage.progress import ProgressRepo
from tests.backends import INTEGRITY_ERRORS, Target

GUILD = 111111111111111111
OTHER_GUILD = 222222222222222222
MEMBER = 333333333333333333
OTHER_MEMBER = 444444444444444444


@pytest.fixture
def repo(db: Database) -> ProgressRepo:
    return ProgressRepo(db)


async def test_default_is_zero(repo: ProgressRepo) -> None:
    assert await repo.get(GUILD, MEMBER, "moonlit-orchard") == 0
    assert await repo.all(GUILD, MEMBER) == {}


async def test_set_then_get(repo: ProgressRepo) -> None:
    await repo.set(GUILD, MEMBER, "moonlit-orchard", 3)
    assert await repo.get(GUILD, MEMBER, "moonlit-orchard") == 3
    assert await repo.get(GUILD, MEMBER, "paper-lanterns") == 0


async def test_set_overwrites(repo: ProgressRepo) -> None:
    await repo.set(GUILD, MEMBER, "moonlit-orchard", 3)
    await repo.set(GUILD, MEMBER, "moonlit-orchard", 1)
    assert await repo.get(GUILD, MEMBER, "moonlit-orchard") == 1
    assert await repo.all(GUILD, MEMBER) == {"moonlit-orchard": 1}
    await repo.set(GUILD, MEMBER, "moonlit-orchard", 0)
    assert await repo.all(GUILD, MEMBER) == {"moonlit-orchard": 0}


async def test_all_lists_every_drama_sorted(repo: ProgressRepo) -> None:
    await repo.set(GUILD, MEMBER, "paper-lanterns", 2)
    await repo.set(GUILD, MEMBER, "moonlit-orchard", 4)
    progress = await repo.all(GUILD, MEMBER)
    assert progress == {"moonlit-orchard": 4, "paper-lanterns": 2}
    assert list(progress) == ["moonlit-orchard", "paper-lanterns"]


async def test_progress_is_per_server_and_per_member(repo: ProgressRepo) -> None:
    await repo.set(GUILD, MEMBER, "moonlit-orchard", 4)
    await repo.set(GUILD, OTHER_MEMBER, "moonlit-orchard", 1)
    await repo.set(OTHER_GUILD, MEMBER, "moonlit-orchard", 2)
    assert await repo.get(GUILD, MEMBER, "moonlit-orchard") == 4
    assert await repo.get(GUILD, OTHER_MEMBER, "moonlit-orchard") == 1
    assert await repo.get(OTHER_GUILD, MEMBER, "moonlit-orchard") == 2
    assert await repo.get(OTHER_GUILD, OTHER_MEMBER, "moonlit-orchard") == 0
    assert await repo.all(OTHER_GUILD, MEMBER) == {"moonlit-orchard": 2}


async def test_clear(repo: ProgressRepo) -> None:
    await repo.set(GUILD, MEMBER, "moonlit-orchard", 4)
    await repo.set(GUILD, MEMBER, "paper-lanterns", 2)
    await repo.set(GUILD, OTHER_MEMBER, "moonlit-orchard", 3)
    await repo.set(OTHER_GUILD, MEMBER, "moonlit-orchard", 1)
    assert await repo.clear(GUILD, MEMBER, "moonlit-orchard") is True
    assert await repo.get(GUILD, MEMBER, "moonlit-orchard") == 0
    assert await repo.all(GUILD, MEMBER) == {"paper-lanterns": 2}
    # Only that member's row in that server went.
    assert await repo.get(GUILD, OTHER_MEMBER, "moonlit-orchard") == 3
    assert await repo.get(OTHER_GUILD, MEMBER, "moonlit-orchard") == 1
    # Clearing again finds nothing.
    assert await repo.clear(GUILD, MEMBER, "moonlit-orchard") is False
    assert await repo.clear(GUILD, MEMBER, "never-set") is False


async def test_a_negative_episode_is_refused_by_the_schema(repo: ProgressRepo) -> None:
    with pytest.raises(INTEGRITY_ERRORS):
        await repo.set(GUILD, MEMBER, "moonlit-orchard", -1)
    assert await repo.get(GUILD, MEMBER, "moonlit-orchard") == 0


async def test_progress_survives_a_reopen(db: Database, db_target: Target) -> None:
    await ProgressRepo(db).set(GUILD, MEMBER, "moonlit-orchard", 2)
    reopened = await db_target.open()
    try:
        assert await ProgressRepo(reopened).get(GUILD, MEMBER, "moonlit-orchard") == 2
    finally:
        await reopened.close()


async def test_repeated_reads_come_from_memory_and_writes_keep_it_right(db: Database) -> None:
    repo = ProgressRepo(db)
    await repo.set(GUILD, MEMBER, "paper-lanterns", 2)
    reads = 0
    fetchall = db.fetchall

    async def counting(sql: str, params: object = ()) -> object:
        nonlocal reads
        reads += 1
        return await fetchall(sql, params)  # type: ignore[arg-type]

    db.fetchall = counting  # type: ignore[method-assign]
    assert await repo.get(GUILD, MEMBER, "moonlit-orchard") == 0
    assert await repo.get(GUILD, MEMBER, "paper-lanterns") == 2 and reads == 1  # the member read whole, once
    await repo.set(GUILD, MEMBER, "moonlit-orchard", 5)
    assert await repo.get(GUILD, MEMBER, "moonlit-orchard") == 5 and reads == 1
    assert await repo.clear(GUILD, MEMBER, "paper-lanterns")
    assert await repo.get(GUILD, MEMBER, "paper-lanterns") == 0 and reads == 1
    assert await ProgressRepo(db).all(GUILD, MEMBER) == {"moonlit-orchard": 5}  # what is stored agrees
    repo.REMEMBERED = 2  # the least recently used member is dropped: read again when asked
    for member in (1, 2, 3):
        await repo.get(GUILD, member, "moonlit-orchard")
    before = reads
    await repo.get(GUILD, 3, "moonlit-orchard")
    await repo.get(GUILD, 1, "moonlit-orchard")
    assert reads == before + 1
