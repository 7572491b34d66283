"""RSVP storage under a burst: one read of the party for many presses, RSVPs written together in
arrival order (a member's last answer wins), nothing lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import Database
from bot.storage.watchparties import PartiesRepo, Party, RsvpRepo

START = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


def party() -> Party:
    return Party(
        guild_id=1,
        drama="queen-of-tears",
        first_episode=1,
        last_episode=2,
        start_at=START,
        end_at=START + timedelta(hours=2),
        timezone="Asia/Seoul",
        channel_id=None,
        location="Online",
        repeat="none",
        reminders=(60,),
        note="",
        created_by=7,
    )


async def test_many_presses_read_the_party_once(db: Database) -> None:
    created = await PartiesRepo(db).create(party())
    fresh = PartiesRepo(db)  # as after a restart: nothing in memory
    reads = 0
    get = fresh.get

    async def counting(party_id: int) -> Party | None:
        nonlocal reads
        reads += 1
        return await get(party_id)

    fresh.get = counting  # type: ignore[method-assign]
    found = await asyncio.gather(*(fresh.cached(created.id) for _ in range(50)))
    assert reads == 1 and all(p == created for p in found)
    assert await fresh.cached(created.id) == created and reads == 1
    await fresh.update(created.with_(state="cancelled"))  # every change goes through the memory too
    assert (await fresh.cached(created.id)).state == "cancelled"  # type: ignore[union-attr]
    assert await fresh.cached(999) is None


async def test_a_burst_of_rsvps_is_written_in_a_few_transactions_in_order(db: Database) -> None:
    created = await PartiesRepo(db).create(party())
    repo = RsvpRepo(db)
    writes = 0
    set_many = repo.set_many

    async def counting(party_id: int, rsvps: list[tuple[int, str]]) -> None:
        nonlocal writes
        writes += 1
        await set_many(party_id, rsvps)

    repo.set_many = counting  # type: ignore[method-assign]
    presses = [(user, "going") for user in range(300)] + [(user, "maybe") for user in range(0, 300, 3)]
    await asyncio.gather(*(repo.record(created.id, user, status) for user, status in presses))
    assert writes < 20
    assert await repo.counts(created.id) == {"going": 200, "maybe": 100, "cant": 0}


async def test_a_failed_write_fails_every_press_in_it(db: Database) -> None:
    created = await PartiesRepo(db).create(party())
    repo = RsvpRepo(db)

    async def broken(party_id: int, rsvps: list[tuple[int, str]]) -> None:
        raise RuntimeError("disk full")

    repo.set_many = broken  # type: ignore[method-assign]
    results = await asyncio.gather(*(repo.record(created.id, u, "going") for u in range(5)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    with pytest.raises(RuntimeError):
        await repo.record(created.id, 9, "going")


async def test_one_statement_per_batch_and_a_members_last_answer_wins(db: Database) -> None:
    created = await PartiesRepo(db).create(party())
    repo = RsvpRepo(db)
    await repo.set_many(created.id, [(1, "going"), (2, "maybe"), (1, "cant"), (3, "going"), (2, "going")])
    rows = await db.fetchall("SELECT user_id, status FROM rsvps WHERE party_id = ? ORDER BY user_id", (created.id,))
    assert [(r["user_id"], r["status"]) for r in rows] == [(1, "cant"), (2, "going"), (3, "going")]
    many = [(10_000 + i, "maybe") for i in range(2_500)]  # more than one statement's worth
    await repo.set_many(created.id, many)
    assert (await repo.counts(created.id)) == {"going": 2, "maybe": 2_500, "cant": 1}


async def test_announcements_left_behind_by_a_write_are_found_stale_until_shown(db: Database) -> None:
    parties = PartiesRepo(db)
    live = await parties.create(party())
    await parties.update(live.with_(announce_channel=5, announcement_id=6))
    unannounced = await parties.create(party())  # no announcement: nothing to bring up to date
    cancelled = await parties.create(party())
    await parties.update(cancelled.with_(announce_channel=5, announcement_id=7, state="cancelled"))
    repo = RsvpRepo(db)
    assert await repo.stale() == [] and await repo.written(live.id) == 0
    for party_id in (live.id, unannounced.id, cancelled.id):
        await repo.set_many(party_id, [(1, "going"), (2, "maybe")])
    assert await repo.stale() == [live.id]
    written = await repo.written(live.id)
    assert written == 2  # every row written counts, inserts and updates alike
    await repo.record(live.id, 1, "cant")  # a press after the edit read `written`
    await repo.shown(live.id, written)
    assert await repo.stale() == [live.id]  # the edit did not show the last press
    await repo.shown(live.id, await repo.written(live.id))
    assert await repo.stale() == []
    await repo.shown(live.id, written)  # a slower, older edit never moves `shown` back
    assert await repo.stale() == []
