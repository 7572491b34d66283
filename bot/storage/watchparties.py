"""Watch parties, RSVPs, and the posts (reminders, "starting now") already made."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, party: Party) -> Party:
        party_id = await self._db.execute(
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
        return party.with_(id=party_id, state="scheduled")

    async def get(self, party_id: int) -> Party | None:
        row = await self._db.fetchone(
            "SELECT id, guild_id, drama, first_episode, last_episode, start_at, end_at, timezone, channel_id, "
            "location, repeat, reminders, note, event_id, announce_channel, announcement_id, state, created_by "
            "FROM watch_parties WHERE id = ?",
            (party_id,),
        )
        return _party(row) if row else None

    async def upcoming(self, guild_id: int, now: datetime, limit: int = 50) -> list[Party]:
        rows = await self._db.fetchall(
            "SELECT id, guild_id, drama, first_episode, last_episode, start_at, end_at, timezone, channel_id, "
            "location, repeat, reminders, note, event_id, announce_channel, announcement_id, state, created_by "
            "FROM watch_parties WHERE guild_id = ? AND state = 'scheduled' AND end_at > ? ORDER BY start_at LIMIT ?",
            (guild_id, to_ms(now), limit),
        )
        return [_party(r) for r in rows]

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


class RsvpRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set(self, party_id: int, user_id: int, status: str) -> None:
        await self._db.execute(
            "INSERT INTO rsvps (party_id, user_id, status, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (party_id, user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            (party_id, user_id, status, self._db.now_ms()),
        )

    async def counts(self, party_id: int) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT status, COUNT(*) AS n FROM rsvps WHERE party_id = ? GROUP BY status", (party_id,)
        )
        counts = dict.fromkeys(RSVP_STATUSES, 0)
        counts.update({r["status"]: r["n"] for r in rows})
        return counts

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
