"""Watch parties, RSVPs, and the posts (reminders, "starting now") already made."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.storage.database import Database
from bot.storage.jobs import from_ms, to_ms

RSVP_STATUSES = ("going", "maybe", "cant")


@dataclass(frozen=True, kw_only=True)
class Party:
    """A watch party. Keyword-only: build one with ``Party(guild_id=…, drama=…, …)``."""

    id: int = 0  # 0 until stored
    guild_id: int
    drama: str
    first_episode: int
    last_episode: int
    start_at: datetime
    end_at: datetime
    timezone: str
    channel_id: int | None
    location: str | None
    repeat: str
    reminders: tuple[int, ...]  # minutes before the start
    note: str
    created_by: int
    event_id: int | None = None
    announce_channel: int | None = None
    announcement_id: int | None = None
    state: str = "scheduled"

    def with_(self, **changes: object) -> Party:
        return replace(self, **changes)  # type: ignore[arg-type]


def _party(row: Any) -> Party:
    return Party(
        id=row["id"],
        guild_id=row["guild_id"],
        drama=row["drama"],
        first_episode=row["first_episode"],
        last_episode=row["last_episode"],
        start_at=from_ms(row["start_at"]),
        end_at=from_ms(row["end_at"]),
        timezone=row["timezone"],
        channel_id=row["channel_id"],
        location=row["location"],
        repeat=row["repeat"],
        reminders=tuple(int(m) for m in row["reminders"].split(",") if m),
        note=row["note"],
        event_id=row["event_id"],
        announce_channel=row["announce_channel"],
        announcement_id=row["announcement_id"],
        state=row["state"],
        created_by=row["created_by"],
    )


class PartiesRepo:
    """Parties, with a write-through memory of the ones asked for recently (RSVP presses read a
    party without a database trip; every change goes through `create`/`update`)."""

    CACHE_SIZE = 4096

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[int, Party] = {}
        self._loading: dict[int, asyncio.Future[Party | None]] = {}

    def _remember(self, party: Party) -> Party:
        self._cache.pop(party.id, None)
        self._cache[party.id] = party
        if len(self._cache) > self.CACHE_SIZE:
            del self._cache[next(iter(self._cache))]  # the least recently stored
        return party

    async def cached(self, party_id: int) -> Party | None:
        """The party from memory, else read once however many ask at the same time."""
        party = self._cache.get(party_id)
        if party is not None:
            return party
        loading = self._loading.get(party_id)
        if loading is not None:
            return await asyncio.shield(loading)
        loading = self._loading[party_id] = asyncio.get_running_loop().create_future()
        try:
            party = await self.get(party_id)
        except BaseException as exc:
            if isinstance(exc, Exception):
                loading.set_exception(exc)
                loading.exception()  # retrieved: only the waiters care
            else:
                loading.cancel()
            raise
        else:
            loading.set_result(party)
        finally:
            del self._loading[party_id]
        return party

    async def create(self, party: Party) -> Party:
        party_id = await self._db.insert(
            "INSERT INTO watch_parties (guild_id, drama, first_episode, last_episode, start_at, end_at, timezone, "
            "channel_id, location, repeat, reminders, note, state, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?)",
            (
                party.guild_id,
                party.drama,
                party.first_episode,
                party.last_episode,
                to_ms(party.start_at),
                to_ms(party.end_at),
                party.timezone,
                party.channel_id,
                party.location,
                party.repeat,
                ",".join(map(str, party.reminders)),
                party.note,
                party.created_by,
                self._db.now_ms(),
            ),
        )
        return self._remember(party.with_(id=party_id, state="scheduled"))

    async def get(self, party_id: int) -> Party | None:
        row = await self._db.fetchone(
            "SELECT id, guild_id, drama, first_episode, last_episode, start_at, end_at, timezone, channel_id, "
            "location, repeat, reminders, note, event_id, announce_channel, announcement_id, state, created_by "
            "FROM watch_parties WHERE id = ?",
            (party_id,),
        )
        if row is None:
            self._cache.pop(party_id, None)
            return None
        return self._remember(_party(row))

    async def upcoming(self, guild_id: int, now: datetime, limit: int = 50) -> list[Party]:
        rows = await self._db.fetchall(
            "SELECT id, guild_id, drama, first_episode, last_episode, start_at, end_at, timezone, channel_id, "
            "location, repeat, reminders, note, event_id, announce_channel, announcement_id, state, created_by "
            "FROM watch_parties WHERE guild_id = ? AND state = 'scheduled' AND end_at > ? ORDER BY start_at LIMIT ?",
            (guild_id, to_ms(now), limit),
        )
        return [_party(r) for r in rows]

    async def find(self, guild_id: int, drama: str, first_episode: int, start_at: datetime) -> Party | None:
        """The server's live party for these episodes of the drama starting then (a weekly successor)."""
        row = await self._db.fetchone(
            "SELECT id, guild_id, drama, first_episode, last_episode, start_at, end_at, timezone, channel_id, "
            "location, repeat, reminders, note, event_id, announce_channel, announcement_id, state, created_by "
            "FROM watch_parties WHERE guild_id = ? AND drama = ? AND first_episode = ? AND start_at = ? "
            "AND state != 'cancelled' ORDER BY id LIMIT 1",
            (guild_id, drama, first_episode, to_ms(start_at)),
        )
        return self._remember(_party(row)) if row is not None else None

    async def update(self, party: Party) -> None:
        await self._db.execute(
            "UPDATE watch_parties SET first_episode = ?, last_episode = ?, start_at = ?, end_at = ?, timezone = ?, "
            "channel_id = ?, location = ?, repeat = ?, reminders = ?, note = ?, event_id = ?, announce_channel = ?, "
            "announcement_id = ?, state = ? WHERE id = ?",
            (
                party.first_episode,
                party.last_episode,
                to_ms(party.start_at),
                to_ms(party.end_at),
                party.timezone,
                party.channel_id,
                party.location,
                party.repeat,
                ",".join(map(str, party.reminders)),
                party.note,
                party.event_id,
                party.announce_channel,
                party.announcement_id,
                party.state,
                party.id,
            ),
        )
        self._remember(party)


@dataclass
class _Queue:
    """RSVPs waiting for the write in flight to finish; they go out together in the next one."""

    waiting: list[tuple[int, str, asyncio.Future[None]]] = field(default_factory=list)
    writing: bool = False


class RsvpRepo:
    _UPSERT_ROW = "(?, ?, ?, ?)"
    _UPSERT_ROWS = 1000  # rows per statement (4 parameters each: far below SQLite's 32,766)

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queues: dict[int, _Queue] = {}

    async def set_many(self, party_id: int, rsvps: list[tuple[int, str]]) -> None:
        """Several members' RSVPs (a member's last one wins), in one statement per 1,000 members: one
        trip to the database thread, which counts in a burst that keeps the event loop busy."""
        now = self._db.now_ms()
        latest = list(dict(rsvps).items())  # one row per member: an upsert may not touch a row twice
        for start in range(0, len(latest), self._UPSERT_ROWS):
            chunk = latest[start : start + self._UPSERT_ROWS]
            marks = ", ".join(self._UPSERT_ROW for _ in chunk)
            await self._db.execute(
                f"INSERT INTO rsvps (party_id, user_id, status, updated_at) VALUES {marks} "  # noqa: S608 - only "?" marks
                "ON CONFLICT (party_id, user_id) DO UPDATE SET status = excluded.status, "
                "updated_at = excluded.updated_at",
                [value for user_id, status in chunk for value in (party_id, user_id, status, now)],
            )

    async def written(self, party_id: int) -> int:
        """How many RSVP writes of the party are committed (read before the counts an edit shows)."""
        row = await self._db.fetchone("SELECT written FROM rsvp_versions WHERE party_id = ?", (party_id,))
        return int(row["written"]) if row is not None else 0

    async def shown(self, party_id: int, written: int) -> None:
        """The announcement now shows the counts read after `written` writes."""
        await self._db.execute(
            "UPDATE rsvp_versions SET shown = ? WHERE party_id = ? AND shown < ?", (written, party_id, written)
        )

    async def stale(self) -> list[int]:
        """Live parties whose announcement may show counts older than the committed RSVPs (a crash
        between a write and its announcement edit)."""
        rows = await self._db.fetchall(
            "SELECT v.party_id FROM rsvp_versions v JOIN watch_parties p ON p.id = v.party_id "
            "WHERE v.written > v.shown AND p.state != 'cancelled' AND p.announcement_id IS NOT NULL "
            "ORDER BY v.party_id"
        )
        return [r["party_id"] for r in rows]

    async def record(self, party_id: int, user_id: int, status: str) -> None:
        """Store one RSVP; returns once it is committed. A burst of presses on one party is written
        in a few transactions, not one each: whatever arrives while a write is in flight goes out in
        the next (group commit), in arrival order."""
        queue = self._queues.setdefault(party_id, _Queue())
        done = asyncio.get_running_loop().create_future()
        queue.waiting.append((user_id, status, done))
        if not queue.writing:
            queue.writing = True
            try:
                while queue.waiting:
                    batch, queue.waiting = queue.waiting, []
                    try:
                        await self.set_many(party_id, [(user, wanted) for user, wanted, _ in batch])
                    except BaseException as exc:
                        for *_, future in batch:
                            if future.done():
                                continue
                            if isinstance(exc, Exception):
                                future.set_exception(exc)
                            else:
                                future.cancel()
                        if done.done() and not done.cancelled():
                            done.exception()  # this caller raises it itself
                        raise
                    for *_, future in batch:
                        if not future.done():
                            future.set_result(None)
            finally:
                queue.writing = False
                for *_, future in queue.waiting:  # only when the writer itself failed or was cancelled
                    if not future.done():
                        future.set_exception(RuntimeError("the RSVP could not be written; please press again"))
                queue.waiting = []
                if self._queues.get(party_id) is queue:
                    del self._queues[party_id]
        await done

    async def counts(self, party_id: int) -> dict[str, int]:
        return (await self.counts_for([party_id]))[party_id]

    async def counts_for(self, party_ids: list[int]) -> dict[int, dict[str, int]]:
        """RSVP counts of several parties in one query (parties without RSVPs count zeros)."""
        result = {party_id: dict.fromkeys(RSVP_STATUSES, 0) for party_id in party_ids}
        if not party_ids:
            return result
        marks = ", ".join("?" for _ in party_ids)
        rows = await self._db.fetchall(
            f"SELECT party_id, status, COUNT(*) AS n FROM rsvps WHERE party_id IN ({marks}) "  # noqa: S608 - only "?" marks
            "GROUP BY party_id, status",
            party_ids,
        )
        for row in rows:
            result[row["party_id"]][row["status"]] = row["n"]
        return result

    async def going(self, party_id: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT user_id FROM rsvps WHERE party_id = ? AND status = 'going' ORDER BY updated_at, user_id",
            (party_id,),
        )
        return [r["user_id"] for r in rows]


class PostsRepo:
    """Claim a post before sending it, record the message after: never sent twice."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, party_id: int, kind: str) -> tuple[bool, int | None]:
        """(claimed now, message id if it was already sent)."""
        async with self._db.transaction():
            row = await self._db.fetchone(
                "SELECT message_id FROM party_posts WHERE party_id = ? AND kind = ?", (party_id, kind)
            )
            if row is not None:
                return False, row["message_id"]
            await self._db.execute(
                "INSERT INTO party_posts (party_id, kind, claimed_at) VALUES (?, ?, ?)",
                (party_id, kind, self._db.now_ms()),
            )
        return True, None

    async def sent(self, party_id: int, kind: str, message_id: int) -> None:
        await self._db.execute(
            "UPDATE party_posts SET message_id = ? WHERE party_id = ? AND kind = ?", (message_id, party_id, kind)
        )
