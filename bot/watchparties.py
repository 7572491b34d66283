"""Watch parties: a native Discord event, an announcement with RSVP buttons, reminders to those
going, a "starting now" post that links the episode thread, and weekly repeats.

Every post a job makes is claimed in SQLite before it is sent and recorded after, and sent with a
deterministic nonce, so a crash or a retry never sends it twice: a retry first looks for the post in
the channel (the nonce dedupes only for minutes, and a restart can come later than that). Reminders
that fall due while the bot is down are sent if at most ten minutes late, else skipped and logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
from rapidfuzz import fuzz, process

from bot import timezones
from bot.catalog import Drama
from bot.core import Core, CoreService
from bot.discussions import Discussions
from bot.errors import InvalidInput, UserError, permission_for_forbidden
from bot.nonce import nonce
from bot.recovery import find_sent, first_line, sent_since
from bot.service import JobKind
from bot.storage.jobs import Job
from bot.storage.watchparties import PartiesRepo, Party, PostsRepo, RsvpRepo
from bot.text import clean, quote
from bot.timeparse import parse_episodes, parse_local, parse_reminders
from bot.ui.watchparties import (
    RSVP_LABELS,
    announcement_embed,
    calendar,
    changed_texts,
    episodes_text,
    party_choice,
    party_title,
    reminder_texts,
    rsvp_view,
    starting_text,
)

log = logging.getLogger(__name__)

REMIND = "party.remind"
START = "party.start"
END = "party.end"
LATE_LIMIT = timedelta(minutes=10)
DEFAULT_RUNTIME = 60  # minutes per episode when the pack does not say


class PartyNotFound(UserError):
    def __init__(self, party_id: int) -> None:
        super().__init__(f"`id`: there is no watch party #{party_id} on this server; `/watchparty list` shows them.")


@dataclass(frozen=True)
class Where:
    channel_id: int | None
    location: str | None
    note: str = ""  # said in the reply (e.g. which channel was chosen for an empty `where`)


def resolve_where(guild: discord.Guild, text: str | None) -> Where:
    """A voice/stage channel (mention, #name or name), else free text for an external location.

    What looks like a channel but is none — `#Watch Pary`, a mention or id of another channel, a
    near-spelling of a voice channel's name — is refused with the closest names, never turned into
    an external event at "#Watch Pary". With no `where`, the first voice channel (the reply says so)."""
    channels = [c for c in guild.channels if isinstance(c, discord.VoiceChannel | discord.StageChannel)]
    if text is None or not text.strip():
        if channels:
            return Where(
                channels[0].id, None, f"no `where` given, so it is in 🔊 {channels[0].name}, the first voice channel"
            )
        return Where(None, "Online", "no `where` given and the server has no voice channel, so it is an online event")
    raw = text.strip()
    match = re.fullmatch(r"<#(\d+)>|(\d{15,20})", raw)
    wanted = raw.lstrip("#").casefold()
    for channel in channels:
        if match and channel.id == int(match.group(1) or match.group(2)):
            return Where(channel.id, None)
        if channel.name.casefold() == wanted:
            return Where(channel.id, None)
    names = [c.name for c in channels]
    folded = [n.casefold() for n in names]
    found = process.extract(wanted, folded, scorer=fuzz.ratio, limit=3)
    near = [names[i] for _choice, score, i in found if score >= 60]
    close = any(score >= 85 for _choice, score, _i in found)
    if match or raw.startswith("#") or close:
        hint = f" Did you mean {', '.join(f'🔊 {n}' for n in near)}?" if near else ""
        listed = ", ".join(names[:10]) or "none"
        raise InvalidInput(
            f"`where`: {quote(raw, 60)} is not a voice or stage channel of this server.{hint} "
            f"(Voice channels: {listed}.) For a place outside Discord, write it without `#`."
        )
    location = clean(raw, 100)
    if not location:
        return Where(channels[0].id, None) if channels else Where(None, "Online")
    return Where(None, location)


def weekly_next(party: Party) -> datetime:
    """The same local wall-clock time a week later (across a DST change)."""
    zone = zoneinfo.ZoneInfo(party.timezone)
    local = party.start_at.astimezone(zone).replace(tzinfo=None) + timedelta(days=7)
    return local.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class PartyRequest:
    """What a moderator typed into `/watchparty schedule`, with the drama already resolved."""

    drama: Drama
    episodes: str
    start: str
    timezone: str | None = None
    where: str | None = None
    repeat: str = "none"
    reminders: str | None = None
    note: str | None = None
    created_by: int


@dataclass(frozen=True, kw_only=True)
class PartyChanges:
    """What a moderator typed into `/watchparty edit` (None: unchanged)."""

    episodes: str | None = None
    start: str | None = None
    timezone: str | None = None
    where: str | None = None
    reminders: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Checked:
    """A validated party (not stored yet, or the edited version of a stored one)."""

    party: Party
    drama: Drama
    time_note: str  # e.g. how a DST overlap was read; "" when nothing to say
    before: Party | None = None  # for an edit: the party as stored


@dataclass(frozen=True)
class Listing:
    party: Party
    drama: Drama | None
    counts: dict[str, int]


RSVP_EDIT_INTERVAL = 1.0  # seconds: at most one RSVP-count edit of an announcement per interval
ACK_WAIT = 1.5  # seconds a press waits for its RSVP to commit before it is acknowledged regardless


@dataclass
class AnnouncementEdits:
    """The RSVP-count edits of one announcement: the one in flight, and whether the next is waiting."""

    busy: asyncio.Future[None] | None = None
    waiting: bool = False
    last: float = float("-inf")  # event-loop time the last edit ended


class WatchParties(CoreService):
    def __init__(self, core: Core, *, discussions: Discussions) -> None:
        super().__init__(core)
        self._discussions = discussions
        self._parties = PartiesRepo(core.db)
        self._rsvps = RsvpRepo(core.db)
        self._edits: dict[int, AnnouncementEdits] = {}  # party id → its announcement's RSVP edits
        self._posts = PostsRepo(core.db)
        self._catch_up: asyncio.Task[None] | None = None

    def jobs(self) -> Sequence[JobKind]:
        return [
            JobKind(REMIND, self.run_remind, LATE_LIMIT),
            JobKind(START, self.run_start, timedelta(hours=2)),
            JobKind(END, self.run_end, timedelta(days=1)),
        ]

    # -- what moderators typed ----------------------------------------------------------------------
    async def check_new(self, guild: discord.Guild, request: PartyRequest) -> Checked:
        """Validate `/watchparty schedule` input (raises InvalidInput naming the option)."""
        drama = request.drama
        first, last = parse_episodes(request.episodes, drama.episode_count, drama.title)
        settings = await self._settings.get(guild.id)
        zone = timezones.resolve(request.timezone, "timezone") if request.timezone else settings.timezone
        when = parse_local(request.start, zone, self._clock.now())
        offsets = parse_reminders(request.reminders if request.reminders is not None else settings.reminders)
        place = resolve_where(guild, request.where)
        party = Party(
            guild_id=guild.id,
            drama=drama.slug,
            first_episode=first,
            last_episode=last,
            start_at=when.utc,
            end_at=self.end_for(drama, when.utc, first, last),
            timezone=zone,
            channel_id=place.channel_id,
            location=place.location,
            repeat=request.repeat,
            reminders=offsets,
            note=(request.note or "").strip(),
            created_by=request.created_by,
        )
        return Checked(party, drama, "\n".join(n for n in (when.note, place.note) if n))

    async def check_edit(
        self, guild: discord.Guild, party_id: int, changes: PartyChanges, *, host: int | None = None
    ) -> Checked:
        """Validate `/watchparty edit` input against the stored party (`host`: a host, not a
        moderator, who may change only the parties they scheduled)."""
        before = await self._own(guild.id, party_id, host)
        if before.state != "scheduled":
            raise InvalidInput(f"`id`: watch party #{party_id} has {before.state}; it can't be changed.")
        drama = self._lookups.catalog.dramas.get(before.drama)
        if drama is None:
            raise InvalidInput(f"`id`: the drama of watch party #{party_id} is no longer in the catalog.")
        after = before
        if changes.episodes is not None:
            first, last = parse_episodes(changes.episodes, drama.episode_count, drama.title)
            after = after.with_(first_episode=first, last_episode=last)
        zone = timezones.resolve(changes.timezone, "timezone") if changes.timezone else before.timezone
        time_note = ""
        if changes.start is not None:
            when = parse_local(changes.start, zone, self._clock.now())
            after = after.with_(start_at=when.utc, timezone=zone)
            time_note = when.note
        after = after.with_(end_at=self.end_for(drama, after.start_at, after.first_episode, after.last_episode))
        if changes.where is not None:
            place = resolve_where(guild, changes.where)
            after = after.with_(channel_id=place.channel_id, location=place.location)
        if changes.reminders is not None:
            after = after.with_(reminders=parse_reminders(changes.reminders))
        if changes.note is not None:
            after = after.with_(note=changes.note.strip())
        return Checked(after, drama, time_note, before)

    async def listing(self, guild_id: int, limit: int = 20) -> list[Listing]:
        """Upcoming parties with their RSVP counts (two queries, whatever the number of parties)."""
        parties = await self._parties.upcoming(guild_id, self._clock.now(), limit)
        counts = await self._rsvps.counts_for([p.id for p in parties])
        dramas = self._lookups.catalog.dramas
        return [Listing(p, dramas.get(p.drama), counts[p.id]) for p in parties]

    async def choices(self, guild_id: int, typed: str) -> list[tuple[str, int]]:
        """(label, id) of upcoming parties matching what was typed, for autocomplete."""
        parties = await self._parties.upcoming(guild_id, self._clock.now(), 100)
        dramas = self._lookups.catalog.dramas
        found = []
        for party in parties:
            label = party_choice(dramas.get(party.drama), party)
            if typed.strip().lstrip("#") in str(party.id) or typed.casefold() in label.casefold():
                found.append((label, party.id))
        return found[:25]

    async def calendar(self, guild: discord.Guild) -> tuple[bytes, int]:
        """The server's upcoming parties as an .ics file, and how many there are."""
        now = self._clock.now()
        parties = await self._parties.upcoming(guild.id, now, 100)
        dramas = self._lookups.catalog.dramas
        return calendar([(dramas.get(p.drama), p) for p in parties], guild.name, now), len(parties)

    # -- creating -------------------------------------------------------------------------------
    def end_for(self, drama: Drama, start: datetime, first: int, last: int) -> datetime:
        return start + timedelta(minutes=(drama.runtime_minutes or DEFAULT_RUNTIME) * (last - first + 1))

    async def schedule(
        self, guild: discord.Guild, party: Party, drama: Drama, fallback_channel: int | None
    ) -> tuple[Party, list[str]]:
        """Store the party, then make the event, the announcement and the jobs. Returns notes for
        the moderator (e.g. a missing permission)."""
        party = await self._parties.create(party)
        return await self._complete(guild, party, drama, fallback_channel)

    async def _complete(
        self, guild: discord.Guild, party: Party, drama: Drama, fallback_channel: int | None, resume: bool = False
    ) -> tuple[Party, list[str]]:
        """Make the stored party's event, announcement and jobs. On `resume` (an earlier attempt was
        stopped part-way, e.g. by a crash) what that attempt made is found and kept, not made again."""
        notes: list[str] = []
        if party.event_id is None and resume:
            party = await self._find_event(guild, drama, party)
        if party.event_id is None:
            party = await self._create_event(guild, drama, party, notes)
        settings = await self._settings.get(guild.id)
        channel_id = settings.announcements_channel_id or party.announce_channel or fallback_channel
        channel = guild.get_channel(channel_id) if channel_id else None
        if resume and party.announcement_id is None and isinstance(channel, discord.TextChannel):
            footer = f"Watch party #{party.id} "
            found = await find_sent(
                self._client,
                channel.id,
                lambda m: bool(m.embeds) and (m.embeds[0].footer.text or "").startswith(footer),
            )
            if found is not None:
                party = party.with_(announce_channel=channel.id, announcement_id=found.id)
        if party.announcement_id is not None:
            pass  # found: an earlier attempt posted it
        elif isinstance(channel, discord.TextChannel):
            try:
                message = await channel.send(
                    embed=announcement_embed(drama, party, await self._rsvps.counts(party.id)),
                    view=rsvp_view(party) or discord.utils.MISSING,
                    nonce=nonce("party", party.id),
                )
                party = party.with_(announce_channel=channel.id, announcement_id=message.id)
            except discord.Forbidden as error:
                missing = permission_for_forbidden(error, guild)
                notes.append(f"I couldn't post the announcement: I need **{missing.permission}** in {channel.mention}.")
        else:
            notes.append(
                "No announcements channel is set (`/settings channel kind:announcements`), so there is "
                "no announcement with RSVP buttons."
            )
        await self._parties.update(party)
        await self._schedule_jobs(party)
        return party, notes

    async def _find_event(self, guild: discord.Guild, drama: Drama, party: Party) -> Party:
        """The party's Discord event made by an earlier attempt that never recorded it, if any."""
        name = f"Watch party: {party_title(drama, party)}"[:100]
        try:
            events = await guild.fetch_scheduled_events(with_counts=False)
        except discord.HTTPException as exc:
            log.warning("party %d: could not list the server's events: %s", party.id, exc)
            return party
        me = self._client.user.id if self._client.user else None
        for event in events:
            if event.name == name and event.start_time == party.start_at and event.creator_id in (me, None):
                return party.with_(event_id=event.id)
        return party

    async def _create_event(self, guild: discord.Guild, drama: Drama, party: Party, notes: list[str]) -> Party:
        channel = guild.get_channel(party.channel_id) if party.channel_id else None
        kwargs: dict[str, Any] = {
            "name": f"Watch party: {party_title(drama, party)}"[:100],
            "start_time": party.start_at,
            "end_time": party.end_at,
            "privacy_level": discord.PrivacyLevel.guild_only,
            "description": (clean(party.note, 900) + "\n" if party.note else "") + "Scheduled with Dramawatch.",
        }
        if isinstance(channel, discord.StageChannel):
            kwargs.update(entity_type=discord.EntityType.stage_instance, channel=channel)
        elif isinstance(channel, discord.VoiceChannel):
            kwargs.update(entity_type=discord.EntityType.voice, channel=channel)
        else:
            kwargs.update(entity_type=discord.EntityType.external, location=party.location or "Online")
        try:
            event = await guild.create_scheduled_event(**kwargs)
        except discord.Forbidden:
            # Since 23 Feb 2026 a bot needs Create Events to make an event; Manage Events alone no
            # longer does (discord-api-docs change-log, "Permission Changes Going into Effect February
            # 2026"). A voice event also needs View Channel and Connect in its channel.
            where = f" (and View Channel and Connect in {channel.mention})" if channel is not None else ""
            notes.append(
                "The watch party is scheduled, with its announcement and reminders, but I couldn't add a "
                f"Discord event: a server admin can give my role the **Create Events** permission{where} for "
                "that (since February 2026, Manage Events alone isn't enough)."
            )
            return party
        return party.with_(event_id=event.id)

    async def _schedule_jobs(self, party: Party) -> None:
        now = self._clock.now()
        for minutes in party.reminders:
            due = party.start_at - timedelta(minutes=minutes)
            if due > now:
                await self._scheduler.ensure(
                    REMIND,
                    {"party_id": party.id, "guild_id": party.guild_id, "minutes": minutes},
                    due,
                    dedupe_key=f"party:{party.id}:remind:{minutes}",
                )
        await self._scheduler.ensure(
            START,
            {"party_id": party.id, "guild_id": party.guild_id},
            party.start_at,
            dedupe_key=f"party:{party.id}:start",
        )
        await self._scheduler.ensure(
            END, {"party_id": party.id, "guild_id": party.guild_id}, party.end_at, dedupe_key=f"party:{party.id}:end"
        )

    async def _cancel_jobs(self, party: Party) -> None:
        for minutes in party.reminders:
            await self._scheduler.cancel_key(f"party:{party.id}:remind:{minutes}")
        await self._scheduler.cancel_key(f"party:{party.id}:start")
        await self._scheduler.cancel_key(f"party:{party.id}:end")

    # -- changing -------------------------------------------------------------------------------
    async def _own(self, guild_id: int, party_id: int, host: int | None) -> Party:
        party = await self.get(guild_id, party_id)
        if host is not None and party.created_by != host:
            raise UserError(
                f"`id`: watch party #{party_id} was scheduled by someone else; hosts manage the parties they "
                "scheduled, moderators manage all."
            )
        return party

    async def get(self, guild_id: int, party_id: int) -> Party:
        party = await self._parties.get(party_id)
        if party is None or party.guild_id != guild_id:
            raise PartyNotFound(party_id)
        return party

    async def edit(self, guild: discord.Guild, before: Party, after: Party) -> list[str]:
        """Apply changes: the event, the announcement, and the reminders move with them."""
        notes: list[str] = []
        await self._cancel_jobs(before)
        drama = self._lookups.catalog.dramas.get(after.drama)
        if after.event_id is not None and drama is not None:
            try:
                event = await guild.fetch_scheduled_event(after.event_id)
                channel = guild.get_channel(after.channel_id) if after.channel_id else None
                changes: dict[str, Any] = {
                    "name": f"Watch party: {party_title(drama, after)}"[:100],
                    "start_time": after.start_at,
                    "end_time": after.end_at,
                }
                if isinstance(channel, discord.VoiceChannel | discord.StageChannel):
                    changes.update(
                        channel=channel,
                        entity_type=discord.EntityType.voice
                        if isinstance(channel, discord.VoiceChannel)
                        else discord.EntityType.stage_instance,
                    )
                else:
                    changes.update(
                        entity_type=discord.EntityType.external, location=after.location or "Online", channel=None
                    )
                await event.edit(**changes)
            except discord.NotFound:
                after = after.with_(event_id=None)
                notes.append("The Discord event was deleted on Discord; the watch party goes on without it.")
            except discord.Forbidden:
                notes.append("I couldn't update the Discord event: I need **Create Events**.")
        await self._parties.update(after)
        await self._refresh_announcement(after)
        await self._schedule_jobs(after)
        moved = (before.start_at, before.channel_id, before.location, before.first_episode, before.last_episode) != (
            after.start_at,
            after.channel_id,
            after.location,
            after.first_episode,
            after.last_episode,
        )
        if moved:
            await self._tell_going(before, after)
        return notes

    async def _tell_going(self, before: Party, after: Party) -> None:
        """One message (split if long) in the announcement channel, mentioning only the Going members."""
        going = await self._rsvps.going(after.id)
        if not going or not after.announce_channel:
            return
        drama = self._lookups.catalog.dramas.get(after.drama)
        channel = self._client.get_partial_messageable(after.announce_channel)
        mentioned = [discord.Object(id=user_id) for user_id in going]
        stamp = int(after.start_at.timestamp())
        try:
            for i, text in enumerate(changed_texts(drama, before, after, going)):
                await channel.send(
                    text,
                    allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=mentioned),
                    nonce=nonce("party-change", after.id, after.state, stamp, i),
                )
        except discord.HTTPException as exc:
            log.warning("party %d: could not tell the members going (%s)", after.id, exc)

    async def check_cancel(
        self, guild: discord.Guild, party_id: int, *, host: int | None = None
    ) -> tuple[Party, Drama | None, int] | None:
        """Before asking to confirm a cancel: the party, its drama and how many are going; None if it
        was cancelled already. Refuses a party that isn't there or (for a host) isn't theirs."""
        party = await self._own(guild.id, party_id, host)
        if party.state == "cancelled":
            return None
        going = len(await self._rsvps.going(party.id))
        return party, self._lookups.catalog.dramas.get(party.drama), going

    async def cancel(self, guild: discord.Guild, party_id: int, *, host: int | None = None) -> list[str] | None:
        """Cancel the party; returns notes for the moderator, or None if it was already cancelled."""
        party = await self._own(guild.id, party_id, host)
        if party.state == "cancelled":
            return None
        notes: list[str] = []
        party = party.with_(state="cancelled")
        await self._parties.update(party)
        await self._cancel_jobs(party)
        if party.event_id is not None:
            try:
                event = await guild.fetch_scheduled_event(party.event_id)
                await event.delete()
            except discord.NotFound:
                pass
            except discord.Forbidden:
                notes.append("I couldn't delete the Discord event: I need **Create Events**; please delete it.")
        await self._refresh_announcement(party)
        await self._tell_going(party, party)
        return notes

    async def _refresh_announcement(self, party: Party) -> None:
        if not party.announce_channel or not party.announcement_id:
            return
        try:
            await self._edit_announcement(party, view=rsvp_view(party))
        except discord.HTTPException as exc:
            log.warning("could not update the announcement of party %d: %s", party.id, exc)

    async def _edit_announcement(self, party: Party, **extra: Any) -> None:
        """Show the party and its committed RSVP counts on its announcement, and record which writes
        it shows (read before the counts: it never claims a later write)."""
        assert party.announce_channel and party.announcement_id
        written = await self._rsvps.written(party.id)
        counts, going = await self._rsvps.counts(party.id), await self._rsvps.going(party.id)
        drama = self._lookups.catalog.dramas.get(party.drama)
        message = self._client.get_partial_messageable(party.announce_channel).get_partial_message(
            party.announcement_id
        )
        await message.edit(embed=announcement_embed(drama, party, counts, going), **extra)
        await self._rsvps.shown(party.id, written)

    async def rsvp(self, interaction: discord.Interaction[Any], party_id: int, status: str) -> None:
        """A press of Going / Maybe / Can't: recorded with the other presses of a burst (group
        commit), then answered with the member's ephemeral confirmation — one request, and a press
        Discord shows as answered is never lost to a crash — and shown on the announcement by at
        most one edit per coalescing window (RSVP_EDIT_INTERVAL)."""
        party = await self._parties.cached(party_id)  # memory, except the first press after a start
        if party is None or party.guild_id != interaction.guild_id:
            raise UserError("This watch party no longer exists.")
        if party.state == "cancelled":
            raise UserError("This watch party was cancelled.")
        record = asyncio.ensure_future(self._rsvps.record(party.id, interaction.user.id, status))
        try:
            # Discord's 3 s must not depend on the database: a write slower than ACK_WAIT is
            # acknowledged ("thinking…") before it commits, and confirmed once it has.
            await asyncio.wait_for(asyncio.shield(record), ACK_WAIT)
        except TimeoutError:
            log.warning("party %d: an RSVP took over %.1f s to commit; acknowledged before it", party.id, ACK_WAIT)
            await interaction.response.defer(ephemeral=True, thinking=True)
            await record
        except BaseException:
            record.cancel()
            raise
        drama = self._lookups.catalog.dramas.get(party.drama)
        answer = {"going": "You're going", "maybe": "You might come", "cant": "You can't make it"}[status]
        extra = " I'll remind you before it starts." if status == "going" and party.reminders else ""
        text = (
            f"{answer} to the watch party for {party_title(drama, party)}.{extra} "
            f"(Change it any time: {', '.join(RSVP_LABELS.values())}.)"
        )
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
        await self._show_rsvps(party.id)

    async def start(self) -> None:
        self._catch_up = asyncio.create_task(self._show_stale_rsvps(), name="watch party announcements")

    async def close(self) -> None:
        if self._catch_up is not None:
            self._catch_up.cancel()
            await asyncio.gather(self._catch_up, return_exceptions=True)

    async def _show_stale_rsvps(self) -> None:
        """At start: announcements a crash left showing counts older than the recorded RSVPs (killed
        between a write and its edit) are edited to show them, one at a time."""
        try:
            for party_id in await self._rsvps.stale():
                await self._show_rsvps(party_id)
        except Exception:
            log.exception("could not bring the watch-party announcements up to date at start")

    async def _show_rsvps(self, party_id: int) -> None:
        """Make sure an announcement edit reads the counts after this press was committed: join the
        edit already waiting for its turn, or become the next one (after the edit in flight, and no
        sooner than RSVP_EDIT_INTERVAL after it)."""
        edits = self._edits.setdefault(party_id, AnnouncementEdits())
        if edits.waiting:
            return  # that edit reads the counts after our write
        edits.waiting = True
        loop = asyncio.get_running_loop()
        try:
            while edits.busy is not None:
                await asyncio.shield(edits.busy)
            pause = edits.last + RSVP_EDIT_INTERVAL - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
        except BaseException:
            edits.waiting = False
            raise
        busy = edits.busy = loop.create_future()
        edits.waiting = False  # presses committed from now on need the next edit
        try:
            party = await self._parties.cached(party_id)
            if party is None or party.state == "cancelled" or not party.announce_channel or not party.announcement_id:
                return
            await self._edit_announcement(party)
        except discord.HTTPException as exc:
            log.warning("could not update the announcement of party %d: %s", party_id, exc)
        finally:
            edits.last = loop.time()
            edits.busy = None
            busy.set_result(None)
            if not edits.waiting and len(self._edits) > 1000:
                self._edits.pop(party_id, None)

    # -- jobs -------------------------------------------------------------------------------------
    async def run_remind(self, job: Job) -> None:
        party = await self._parties.get(job.payload["party_id"])
        if party is None or party.state != "scheduled":
            return
        late = self._clock.now() - job.due_at
        if late > LATE_LIMIT:
            log.warning(
                "party %d: reminder %d min before start skipped, %s late", party.id, job.payload["minutes"], late
            )
            return
        await self._post(party, f"remind:{job.payload['minutes']}", self._reminder)

    async def _reminder(self, party: Party, channel: discord.abc.Messageable, kind: str, resume: bool = False) -> int:
        """Send the reminder's messages; on `resume` (a claim an earlier attempt never recorded),
        only those not already in the channel. Returns the id of its first message."""
        drama = self._lookups.catalog.dramas.get(party.drama)
        going = await self._rsvps.going(party.id)
        minutes = int(kind.split(":", 1)[1])
        texts = reminder_texts(drama, party, going, minutes)
        out: dict[int, int] = {}
        if resume and isinstance(channel, discord.PartialMessageable):
            out = await self._reminder_parts(channel.id, texts, party.start_at - timedelta(minutes=minutes))
            if out:
                log.info("party %d: %d of %d %s messages were already out", party.id, len(out), len(texts), kind)
        for i, text in enumerate(texts):
            if i in out:
                continue
            mentioned = [discord.Object(id=user_id) for user_id in going if f"<@{user_id}>" in text]
            message = await channel.send(
                text,
                allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=mentioned),
                nonce=nonce("party", party.id, kind, i),
            )
            out[i] = message.id
        return out[0]

    async def _reminder_parts(self, channel_id: int, texts: list[str], due: datetime) -> dict[int, int]:
        """Which of a reminder's messages an earlier attempt sent: the first found by its first line
        (the party, its time and the reminder's offset: one reminder's only), the rest by exact text
        after it. A member who RSVPed since may make a later part differ: it is sent, mentioning them."""
        history = await sent_since(self._client, channel_id, due)
        head = first_line(texts[0])
        start = next((n for n, m in enumerate(history) if first_line(m.content) == head), None)
        if start is None:
            return {}
        out = {0: history[start].id}
        later = history[start + 1 :]
        for i, text in enumerate(texts[1:], 1):
            match = next((m for m in later if m.content == text), None)
            if match is not None:
                out[i] = match.id
        return out

    async def run_start(self, job: Job) -> None:
        party = await self._parties.get(job.payload["party_id"])
        if party is None or party.state not in ("scheduled", "started"):
            return
        if party.state == "scheduled":
            await self._post(party, "start", self._starting)
            await self._parties.update(party.with_(state="started"))
        # Retried after a crash once started: the event and the weekly repeat are made idempotently.
        await self._event_status(party, discord.EventStatus.active)
        if party.repeat == "weekly":
            await self._repeat(party)

    async def run_end(self, job: Job) -> None:
        """At the end time: the Discord event is completed (members see it as over)."""
        party = await self._parties.get(job.payload["party_id"])
        if party is None or party.state != "started":
            return
        await self._event_status(party, discord.EventStatus.completed)

    async def _event_status(self, party: Party, status: discord.EventStatus) -> None:
        """Start or complete the party's Discord event (it is not done by Discord for a bot's event)."""
        guild = self._client.get_guild(party.guild_id)
        if party.event_id is None or guild is None:
            return
        try:
            event = await guild.fetch_scheduled_event(party.event_id)
            if status is discord.EventStatus.active and event.status is discord.EventStatus.scheduled:
                await event.start()
            elif status is discord.EventStatus.completed and event.status is discord.EventStatus.active:
                await event.end()
        except discord.HTTPException as exc:
            log.warning("party %d: could not set its event %s (%s)", party.id, status.name, exc)

    async def _starting(self, party: Party, channel: discord.abc.Messageable, kind: str) -> int:
        drama = self._lookups.catalog.dramas.get(party.drama)
        thread_id = None
        guild = self._client.get_guild(party.guild_id)
        if drama is not None and guild is not None:
            episode = drama.episode(party.first_episode)
            if episode is not None:
                thread_id = await self._discussions.existing(guild, drama, episode)
                following = await self._discussions.is_following(guild.id, drama.slug)
                if thread_id is None and following and episode.aired(self._clock.now()):
                    try:
                        thread_id, _ = await self._discussions.open(guild, drama, episode)
                    except (discord.HTTPException, UserError) as exc:
                        log.warning("party %d: could not open the episode thread: %s", party.id, exc)
        message = await channel.send(starting_text(drama, party, thread_id), nonce=nonce("party", party.id, kind))
        return message.id

    async def _post(
        self, party: Party, kind: str, make: Callable[[Party, discord.abc.Messageable, str], Awaitable[int]]
    ) -> None:
        """Send one post for the party exactly once (claimed before, recorded after)."""
        claimed_now, sent = await self._posts.claim(party.id, kind)
        if sent:
            return
        channel = self._client.get_partial_messageable(party.announce_channel) if party.announce_channel else None
        if channel is None:
            log.warning("party %d: no channel to post %s in", party.id, kind)
            return
        if not claimed_now and kind.startswith("remind:"):  # an earlier attempt may have sent some
            await self._posts.sent(party.id, kind, await self._reminder(party, channel, kind, resume=True))
            return
        if not claimed_now:  # claimed by an earlier attempt that never recorded a message: a crash?
            found = await self._find_post(party, channel.id, kind)
            if found is not None:
                log.info("party %d: the %s post was already out (message %d); recorded", party.id, kind, found)
                await self._posts.sent(party.id, kind, found)
                return
        message_id = await make(party, channel, kind)
        await self._posts.sent(party.id, kind, message_id)

    async def _find_post(self, party: Party, channel_id: int, kind: str) -> int | None:
        """The "starting now" message of an earlier attempt, if it went out: found by its first line,
        no sooner than the post was due. (Reminders resume message by message: `_reminder_parts`.)"""
        drama = self._lookups.catalog.dramas.get(party.drama)
        if kind == "start":
            head = first_line(starting_text(drama, party, None)).rsplit("!", 1)[0]
            due = party.start_at
        else:
            return None
        found = await find_sent(self._client, channel_id, lambda m: first_line(m.content).startswith(head), since=due)
        return found.id if found is not None else None

    async def _repeat(self, party: Party) -> None:
        drama = self._lookups.catalog.dramas.get(party.drama)
        guild = self._client.get_guild(party.guild_id)
        if drama is None or guild is None:
            return
        count = party.last_episode - party.first_episode + 1
        first = party.last_episode + 1
        if first > drama.episode_count:
            log.info("party %d: the drama has ended; the weekly repeat stops", party.id)
            return
        last = min(first + count - 1, drama.episode_count)
        start = weekly_next(party)
        following = Party(
            guild_id=party.guild_id,
            drama=party.drama,
            first_episode=first,
            last_episode=last,
            start_at=start,
            end_at=self.end_for(drama, start, first, last),
            timezone=party.timezone,
            channel_id=party.channel_id,
            location=party.location,
            repeat="weekly",
            reminders=party.reminders,
            note=party.note,
            announce_channel=party.announce_channel,
            created_by=party.created_by,
        )
        made = await self._parties.find(party.guild_id, party.drama, first, start)
        if made is not None:  # an earlier attempt (stopped by a crash?) stored it: finish, don't repeat
            created, notes = await self._complete(guild, made, drama, party.announce_channel, resume=True)
        else:
            created, notes = await self.schedule(guild, following, drama, party.announce_channel)
        for note in notes:
            log.warning("party %d (weekly repeat of %d): %s", created.id, party.id, note)
        log.info("party %d repeats as %d: %s", party.id, created.id, episodes_text(created))
