"""Watch party announcements, RSVP buttons, reminders and the calendar file."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord
from icalendar import Calendar, Event

from bot.catalog import Drama
from bot.storage.watchparties import Party
from bot.text import duration, plural, quote
from bot.timeparse import format_offsets
from bot.ui import limits
from bot.ui.help import COLOUR
from bot.ui.limits import md
from bot.ui.views import ReportingItem

if TYPE_CHECKING:
    from bot.client import Interaction
    from bot.watchparties import Listing

RSVP_LABELS = {"going": "Going", "maybe": "Maybe", "cant": "Can't"}


def episodes_text(party: Party) -> str:
    if party.first_episode == party.last_episode:
        return f"episode {party.first_episode}"
    return f"episodes {party.first_episode}–{party.last_episode}"


def party_title(drama: Drama | None, party: Party) -> str:
    """Markdown (the drama's title escaped); `party_choice` and the calendar use the plain title."""
    title = md(drama.title) if drama else md(party.drama)
    return f"{title}: {episodes_text(party)}"


def _plain_title(drama: Drama | None, party: Party) -> str:
    title = drama.title if drama else party.drama
    return f"{title}: {episodes_text(party)}"


def where_text(party: Party) -> str:
    if party.channel_id:
        return f"<#{party.channel_id}>"
    return quote(party.location or "online", 100)


def event_link(party: Party) -> str | None:
    if party.event_id is None:
        return None
    return f"https://discord.com/events/{party.guild_id}/{party.event_id}"


GOING_SHOWN = 10  # members named on the announcement; the rest are counted


def announcement_embed(
    drama: Drama | None, party: Party, counts: dict[str, int], going: list[int] | None = None
) -> discord.Embed:
    cancelled = party.state == "cancelled"
    title = ("Cancelled: " if cancelled else "Watch party: ") + party_title(drama, party)
    embed = discord.Embed(title=title, colour=discord.Colour.dark_grey() if cancelled else COLOUR)
    if party.note:
        embed.description = quote(party.note, 1000)
    when = discord.utils.format_dt(party.start_at, "F") + " (" + discord.utils.format_dt(party.start_at, "R") + ")"
    embed.add_field(name="When", value=when, inline=False)
    embed.add_field(name="Where", value=where_text(party), inline=True)
    link = event_link(party)
    if link:
        embed.add_field(name="Discord event", value=f"[Open the event]({link})", inline=True)
    if not cancelled:
        embed.add_field(
            name="RSVP",
            value=f"Going: {counts['going']} · Maybe: {counts['maybe']} · Can't: {counts['cant']}",
            inline=False,
        )
        if going:  # mentions in an embed show as names and never ping
            names = ", ".join(f"<@{user_id}>" for user_id in going[:GOING_SHOWN])
            more = f" and {len(going) - GOING_SHOWN} more" if len(going) > GOING_SHOWN else ""
            embed.add_field(name=f"Going ({len(going)})", value=names + more, inline=False)
    repeat = " · repeats weekly" if party.repeat == "weekly" else ""
    embed.set_footer(text=f"Watch party #{party.id}{repeat} · times show in your own time zone")
    return limits.finish(embed)


class RsvpButton(
    ReportingItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"dw:rsvp:(?P<party>\d+):(?P<status>going|maybe|cant)",
):
    """Going / Maybe / Can't, keyed by the party id: works after restarts."""

    def __init__(self, party_id: int, status: str) -> None:
        style = discord.ButtonStyle.success if status == "going" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=RSVP_LABELS[status], style=style, custom_id=limits.custom_id(f"dw:rsvp:{party_id}:{status}")
            )
        )
        self.party_id = party_id
        self.status = status

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RsvpButton:
        return cls(int(match["party"]), match["status"])

    async def run(self, interaction: Interaction) -> None:
        await interaction.client.watchparties.rsvp(interaction, self.party_id, self.status)


def rsvp_view(party: Party) -> discord.ui.View | None:
    if party.state == "cancelled":
        return None
    view = discord.ui.View(timeout=None)
    for status in RSVP_LABELS:
        view.add_item(RsvpButton(party.id, status))
    return view


def reminder_texts(drama: Drama | None, party: Party, going: list[int], minutes: int) -> list[str]:
    """The reminder `minutes` before the start, split so no message passes Discord's 2,000
    characters. Mentions only `going`. Each of a party's reminders reads differently (its offset is
    in every message), so a retry after a crash can tell which of them went out."""
    # "<t:…:t>" reads right whether the reminder is early or (after downtime) a few minutes late.
    head = (
        f"⏰ Watch party ({duration(minutes)} reminder): **{party_title(drama, party)}**, "
        f"{discord.utils.format_dt(party.start_at, 't')} ({discord.utils.format_dt(party.start_at, 'R')})"
    )
    link = event_link(party)
    head += f" ({link})." if link else f", in {where_text(party)}."
    return mention_texts(head, going, more=f"(continued: {duration(minutes)} reminder)")


def changed_texts(drama: Drama | None, before: Party, after: Party, going: list[int]) -> list[str]:
    """What the Going members are told when a moderator moves or cancels the party (mentions only them)."""
    title = party_title(drama, after)
    if after.state == "cancelled":
        head = f"❌ The watch party for **{title}** on {discord.utils.format_dt(before.start_at, 'F')} is cancelled."
    else:
        head = (
            f"🔔 The watch party for **{title}** changed: now {discord.utils.format_dt(after.start_at, 'F')} "
            f"({discord.utils.format_dt(after.start_at, 'R')}), in {where_text(after)}."
        )
    return mention_texts(head, going)


def mention_texts(head: str, going: list[int], more: str = "(continued)") -> list[str]:
    """`head` and a mention of each member, split so no message passes Discord's 2,000 characters;
    the messages after the first start with `more`."""
    head = limits.fit(head, 1500)
    mentions = [f"<@{user_id}>" for user_id in going]
    messages: list[str] = []
    current = head
    for mention in mentions:
        if len(current) + len(mention) + 1 > 1900:
            messages.append(current)
            current = more
        current += (" " if current != head else "\n") + mention
    messages.append(current)
    return messages


def starting_text(drama: Drama | None, party: Party, thread_id: int | None) -> str:
    text = f"▶️ The watch party for **{party_title(drama, party)}** is starting now in {where_text(party)}!"
    if thread_id:
        text += f" Talk about it (spoilers inside) in <#{thread_id}>."
    return limits.content(text)


def party_choice(drama: Drama | None, party: Party) -> str:
    """An autocomplete line (plain text, no Discord timestamp): the start in the zone the party was
    entered in, as the moderator thinks of it."""
    local = party.start_at.astimezone(ZoneInfo(party.timezone))
    when = f"{local:%a %d %b %H:%M} {local.tzname() or party.timezone}"
    return limits.plain(f"#{party.id} · {_plain_title(drama, party)} · {when}", limits.CHOICE_NAME)


def calendar(parties: list[tuple[Drama | None, Party]], guild_name: str, now: datetime) -> bytes:
    """An RFC 5545 calendar: one VEVENT per upcoming party, UTC times, stable UIDs."""
    cal = Calendar()
    cal.add("prodid", "-//Dramawatch//watch parties//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{guild_name} watch parties")
    for drama, party in parties:
        event = Event()
        event.add("uid", f"watchparty-{party.id}-{party.guild_id}@dramawatch")
        event.add("dtstamp", now)
        event.add("dtstart", party.start_at)
        event.add("dtend", party.end_at)
        event.add("summary", f"Watch party: {_plain_title(drama, party)}")
        event.add("location", f"Discord: {party.location}" if party.location else "Discord voice channel")
        description = party.note or ""
        link = event_link(party)
        if link:
            description = (description + "\n" if description else "") + link
        if description:
            event.add("description", description)
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


def scheduled_text(drama: Drama, party: Party, time_note: str, notes: list[str]) -> str:
    """The reply to `/watchparty schedule`."""
    lines = [
        f"Watch party #{party.id} scheduled: **{md(drama.title)}** {episodes_text(party)}, "
        f"{discord.utils.format_dt(party.start_at, 'F')} ({discord.utils.format_dt(party.start_at, 'R')}), "
        f"in {where_text(party)}; reminders: {format_offsets(party.reminders)}"
        + (", repeats weekly." if party.repeat == "weekly" else "."),
    ]
    if time_note:
        lines.append(f"Note: {time_note}")
    lines += [f"⚠️ {n}" for n in notes]
    return limits.content("\n".join(lines))


def changed_text(party: Party, time_note: str, notes: list[str]) -> str:
    """The reply to `/watchparty edit`."""
    lines = [
        f"Watch party #{party.id} updated: {episodes_text(party)}, {discord.utils.format_dt(party.start_at, 'F')}, "
        f"in {where_text(party)}; reminders: {format_offsets(party.reminders)}."
    ]
    if time_note:
        lines.append(f"Note: {time_note}")
    lines += [f"⚠️ {n}" for n in notes]
    return limits.content("\n".join(lines))


def listing_embed(listing: list[Listing]) -> discord.Embed:
    """`/watchparty list`: upcoming parties with RSVP counts."""
    embed = discord.Embed(title="Upcoming watch parties", colour=COLOUR)
    for entry in listing:
        party, drama, counts = entry.party, entry.drama, entry.counts
        title = f"#{party.id} · {md(drama.title) if drama else md(party.drama)} · {episodes_text(party)}"
        value = (
            f"{discord.utils.format_dt(party.start_at, 'F')} ({discord.utils.format_dt(party.start_at, 'R')})"
            f" in {where_text(party)}\nGoing {counts['going']} · Maybe {counts['maybe']} · "
            f"Can't {counts['cant']}"
        )
        embed.add_field(name=title, value=value, inline=False)
    return limits.finish(embed)  # past 25 parties, the last field says how many more


def cancel_prompt(drama: Drama | None, party: Party, going: int) -> tuple[str, discord.ui.View]:
    """`/watchparty cancel` asks first: what will be cancelled and who will be told."""
    told = f" The {plural(going, 'member')} going will be told." if going else ""
    text = limits.content(
        f"Cancel watch party #{party.id}, **{party_title(drama, party)}** on "
        f"{discord.utils.format_dt(party.start_at, 'F')}? The Discord event and the reminders go.{told}"
    )
    view = discord.ui.View(timeout=None)
    view.add_item(PartyCancel(party.id, "yes"))
    view.add_item(PartyCancel(party.id, "no"))
    return text, view


class PartyCancel(
    ReportingItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"dw:party-cancel:(?P<party>\d+):(?P<answer>yes|no)",
):
    """The confirmation of `/watchparty cancel`; the permission is checked again on the click."""

    def __init__(self, party_id: int, answer: str) -> None:
        label, style = (
            ("Yes, cancel it", discord.ButtonStyle.danger)
            if answer == "yes"
            else ("Keep it", discord.ButtonStyle.secondary)
        )
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"dw:party-cancel:{party_id}:{answer}"))
        self.party_id = party_id
        self.answer = answer

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PartyCancel:
        return cls(int(match["party"]), match["answer"])

    async def run(self, interaction: Interaction) -> None:
        from bot.checks import check_host

        await check_host(interaction)  # moderators, or hosts (their own parties: checked by the service)
        guild = interaction.guild
        assert guild is not None
        if self.answer == "no":
            await interaction.response.edit_message(content=f"Kept watch party #{self.party_id}.", view=None)
            return
        host = None if interaction.extras.get("moderator") else interaction.user.id
        await interaction.response.defer()
        notes = await interaction.client.watchparties.cancel(guild, self.party_id, host=host)
        if notes is None:
            text = f"Watch party #{self.party_id} was already cancelled."
        else:
            done = (
                f"Watch party #{self.party_id} cancelled: the event, the announcement's buttons and the reminders "
                "are gone."
            )
            text = "\n".join([done] + [f"⚠️ {n}" for n in notes])
        await interaction.edit_original_response(content=limits.content(text), view=None)
