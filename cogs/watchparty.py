"""/watchparty schedule|edit|cancel (moderators), list and calendar (everyone)."""

from __future__ import annotations

import io
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import timezones
from bot.checks import moderator_only
from bot.errors import InvalidInput
from bot.storage.watchparties import Party
from bot.text import quote
from bot.timeparse import format_offsets, parse_episodes, parse_local, parse_reminders
from bot.ui.watchparties import RsvpButton, calendar, episodes_text, party_choice, where_text
from bot.watchparties import resolve_where

Repeat = Literal["none", "weekly"]


@app_commands.guild_only()
class WatchParty(
    commands.GroupCog, group_name="watchparty", group_description="Watch parties: schedule, RSVP, calendar."
):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(RsvpButton)
        self.bot.watchparties.register()

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(RsvpButton)

    # -- schedule -------------------------------------------------------------------------------
    @app_commands.command(name="schedule", description="Schedule a watch party (moderators).")
    @app_commands.describe(
        drama="The drama (start typing its name)",
        episodes="An episode or a range, like 5 or 5-6",
        start="Date and time in the time zone below, as YYYY-MM-DD HH:MM",
        timezone="IANA time zone of `start` (default: the server's)",
        where="A voice or stage channel, or a place/link for an external event",
        repeat="weekly: the same time each week with the next episodes, until the drama ends",
        reminders="Before the start, like 1d,1h,10m (default: /settings reminders) or none",
        note="A short note shown on the announcement",
    )
    @moderator_only()
    async def schedule(
        self,
        interaction: discord.Interaction[Any],
        drama: app_commands.Range[str, 1, 100],
        episodes: app_commands.Range[str, 1, 20],
        start: app_commands.Range[str, 1, 40],
        timezone: app_commands.Range[str, 1, 64] | None = None,
        where: app_commands.Range[str, 1, 100] | None = None,
        repeat: Repeat = "none",
        reminders: app_commands.Range[str, 1, 60] | None = None,
        note: app_commands.Range[str, 0, 500] | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        found = self.bot.lookups.drama(drama).drama
        first, last = parse_episodes(episodes, found.episode_count, found.title)
        settings = await self.bot.guild_settings.get(guild.id)
        zone = timezones.resolve(timezone, "timezone") if timezone else settings.timezone
        when = parse_local(start, zone, self.bot.clock.now())
        offsets = parse_reminders(reminders if reminders is not None else settings.reminders)
        place = resolve_where(guild, where)
        service = self.bot.watchparties
        await interaction.response.defer(ephemeral=True, thinking=True)
        party = Party(
            0,
            guild.id,
            found.slug,
            first,
            last,
            when.utc,
            service.end_for(found, when.utc, first, last),
            zone,
            place.channel_id,
            place.location,
            repeat,
            offsets,
            (note or "").strip(),
            None,
            None,
            None,
            "scheduled",
            interaction.user.id,
        )
        party, notes = await service.schedule(guild, party, found, interaction.channel_id)
        lines = [
            f"Watch party #{party.id} scheduled: **{found.title}** {episodes_text(party)}, "
            f"{discord.utils.format_dt(party.start_at, 'F')} ({discord.utils.format_dt(party.start_at, 'R')}), "
            f"in {where_text(party)}; reminders: {format_offsets(party.reminders)}"
            + (", repeats weekly." if repeat == "weekly" else "."),
        ]
        if when.note:
            lines.append(f"Note: {when.note}")
        lines += [f"⚠️ {n}" for n in notes]
        await interaction.followup.send("\n".join(lines), ephemeral=True)

    @schedule.autocomplete("drama")
    async def drama_autocomplete(self, interaction: discord.Interaction[Any], current: str):
        return [app_commands.Choice(name=n, value=v) for n, v in self.bot.lookups.drama_choices(current)]

    @schedule.autocomplete("timezone")
    async def timezone_autocomplete(self, interaction: discord.Interaction[Any], current: str):
        return [app_commands.Choice(name=z, value=z) for z in timezones.suggest(current, 25)]

    @schedule.autocomplete("where")
    async def where_autocomplete(self, interaction: discord.Interaction[Any], current: str):
        guild = interaction.guild
        channels = [
            c
            for c in (guild.channels if guild else [])
            if isinstance(c, discord.VoiceChannel | discord.StageChannel)
            and current.casefold().lstrip("#") in c.name.casefold()
        ]
        choices = [app_commands.Choice(name=f"🔊 {c.name}"[:100], value=c.name[:100]) for c in channels[:24]]
        if current.strip() and not channels:
            choices.append(app_commands.Choice(name=f"Elsewhere: {current}"[:100], value=current[:100]))
        return choices

    # -- edit / cancel ---------------------------------------------------------------------------
    @app_commands.command(name="edit", description="Change a watch party (moderators).")
    @app_commands.describe(
        id="The watch party (start typing)",
        episodes="New episodes, like 5 or 5-6",
        start="New date and time, YYYY-MM-DD HH:MM",
        timezone="Time zone of `start` (default: the one the party was set in)",
        where="New voice/stage channel or external place",
        reminders="New reminders, like 1d,1h,10m or none",
        note="New note",
    )
    @moderator_only()
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        id: int,
        episodes: app_commands.Range[str, 1, 20] | None = None,
        start: app_commands.Range[str, 1, 40] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        where: app_commands.Range[str, 1, 100] | None = None,
        reminders: app_commands.Range[str, 1, 60] | None = None,
        note: app_commands.Range[str, 0, 500] | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        service = self.bot.watchparties
        before = await service.get(guild.id, id)
        if before.state != "scheduled":
            raise InvalidInput(f"`id`: watch party #{id} has {before.state}; it can't be changed.")
        drama = self.bot.catalog.dramas.get(before.drama)
        if drama is None:
            raise InvalidInput(f"`id`: the drama of watch party #{id} is no longer in the catalog.")
        after = before
        if episodes is not None:
            first, last = parse_episodes(episodes, drama.episode_count, drama.title)
            after = after.with_(first_episode=first, last_episode=last)
        zone = timezones.resolve(timezone, "timezone") if timezone else before.timezone
        note_text = ""
        if start is not None:
            when = parse_local(start, zone, self.bot.clock.now())
            after = after.with_(start_at=when.utc, timezone=zone)
            note_text = when.note
        after = after.with_(end_at=service.end_for(drama, after.start_at, after.first_episode, after.last_episode))
        if where is not None:
            place = resolve_where(guild, where)
            after = after.with_(channel_id=place.channel_id, location=place.location)
        if reminders is not None:
            after = after.with_(reminders=parse_reminders(reminders))
        if note is not None:
            after = after.with_(note=note.strip())
        await interaction.response.defer(ephemeral=True, thinking=True)
        notes = await service.edit(guild, before, after)
        lines = [
            f"Watch party #{id} updated: {episodes_text(after)}, {discord.utils.format_dt(after.start_at, 'F')}, "
            f"in {where_text(after)}; reminders: {format_offsets(after.reminders)}."
        ]
        if note_text:
            lines.append(f"Note: {note_text}")
        lines += [f"⚠️ {n}" for n in notes]
        await interaction.followup.send("\n".join(lines), ephemeral=True)

    @app_commands.command(name="cancel", description="Cancel a watch party (moderators).")
    @app_commands.describe(id="The watch party (start typing)")
    @moderator_only()
    async def cancel(self, interaction: discord.Interaction[Any], id: int) -> None:
        guild = interaction.guild
        assert guild is not None
        service = self.bot.watchparties
        party = await service.get(guild.id, id)
        if party.state == "cancelled":
            await interaction.response.send_message(f"Watch party #{id} was already cancelled.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        notes = await service.cancel(guild, party)
        lines = [f"Watch party #{id} cancelled: the event, the announcement's buttons and the reminders are gone."]
        lines += [f"⚠️ {n}" for n in notes]
        await interaction.followup.send("\n".join(lines), ephemeral=True)

    @edit.autocomplete("id")
    @cancel.autocomplete("id")
    async def party_autocomplete(self, interaction: discord.Interaction[Any], current: str):
        if interaction.guild_id is None:
            return []
        parties = await self.bot.watchparties.parties.upcoming(interaction.guild_id, self.bot.clock.now(), 100)
        choices = []
        for party in parties:
            label = party_choice(self.bot.catalog.dramas.get(party.drama), party)
            if current.strip().lstrip("#") in str(party.id) or current.casefold() in label.casefold():
                choices.append(app_commands.Choice(name=label, value=party.id))
        return choices[:25]

    # -- everyone -------------------------------------------------------------------------------
    @app_commands.command(name="list", description="Upcoming watch parties, with RSVP counts.")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        service = self.bot.watchparties
        parties = await service.parties.upcoming(interaction.guild_id, self.bot.clock.now(), 20)
        if not parties:
            await interaction.response.send_message("No watch party is scheduled.", ephemeral=True)
            return
        embed = discord.Embed(title="Upcoming watch parties", colour=discord.Colour(0xE0457B))
        for party in parties:
            drama = self.bot.catalog.dramas.get(party.drama)
            counts = await service.rsvps.counts(party.id)
            title = f"#{party.id} · {drama.title if drama else party.drama} · {episodes_text(party)}"
            value = (
                f"{discord.utils.format_dt(party.start_at, 'F')} ({discord.utils.format_dt(party.start_at, 'R')})"
                f" in {where_text(party)}\nGoing {counts['going']} · Maybe {counts['maybe']} · "
                f"Can't {counts['cant']}"
            )
            embed.add_field(name=title[:256], value=value, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="calendar", description="Upcoming watch parties as a calendar file (.ics).")
    async def calendar_(self, interaction: discord.Interaction[Any]) -> None:
        guild = interaction.guild
        assert guild is not None
        parties = await self.bot.watchparties.parties.upcoming(guild.id, self.bot.clock.now(), 100)
        data = calendar([(self.bot.catalog.dramas.get(p.drama), p) for p in parties], guild.name, self.bot.clock.now())
        name = "watch-parties.ics"
        text = (
            f"{len(parties)} upcoming watch part{'y' if len(parties) == 1 else 'ies'} of {quote(guild.name, 60)}: "
            "open the file to add them to your calendar."
        )
        await interaction.response.send_message(
            text, file=discord.File(io.BytesIO(data), filename=name), ephemeral=True
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(WatchParty(bot))
