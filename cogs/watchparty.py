"""/watchparty schedule|edit|cancel (moderators), list and calendar (everyone)."""

from __future__ import annotations

import io
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import host_or_moderator
from bot.client import Dramawatch, Interaction
from bot.text import quote
from bot.ui.help import HelpSection
from bot.ui.watchparties import cancel_prompt, changed_text, listing_embed, scheduled_text
from bot.watchparties import PartyChanges, PartyRequest
from cogs._autocomplete import drama_choices, timezone_choices

Repeat = Literal["none", "weekly"]


def _host(interaction: Interaction) -> int | None:
    """The user, when a host (not a moderator) acts: hosts manage only their own parties."""
    return None if interaction.extras.get("moderator") else interaction.user.id


@app_commands.guild_only()
class WatchParty(
    commands.GroupCog, group_name="watchparty", group_description="Watch parties: schedule, RSVP, calendar."
):
    help_section = HelpSection("Watch parties", 40)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    # -- schedule -------------------------------------------------------------------------------
    @app_commands.command(name="schedule", description="Schedule a watch party (moderators and hosts).")
    @app_commands.describe(
        drama="The drama (start typing its name)",
        episodes="An episode or a range, like 5 or 5-6",
        start="When, in the time zone below: tomorrow 9pm, sat 21:00, in 2 hours, 2027-01-07 20:00",
        timezone="IANA time zone of `start` (default: the server's)",
        where="A voice or stage channel, or a place/link for an external event",
        repeat="weekly: the same time each week with the next episodes, until the drama ends",
        reminders="Before the start, like 1d,1h,10m (default: /settings reminders) or none",
        note="A short note shown on the announcement",
    )
    @host_or_moderator()
    @app_commands.autocomplete(drama=drama_choices, timezone=timezone_choices)
    async def schedule(
        self,
        interaction: Interaction,
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
        request = PartyRequest(
            drama=self.bot.lookups.drama(drama).drama,
            episodes=episodes,
            start=start,
            timezone=timezone,
            where=where,
            repeat=repeat,
            reminders=reminders,
            note=note,
            created_by=interaction.user.id,
        )
        checked = await self.bot.watchparties.check_new(guild, request)  # bad input: answered before the defer
        await interaction.response.defer(ephemeral=True, thinking=True)
        party, notes = await self.bot.watchparties.schedule(guild, checked.party, checked.drama, interaction.channel_id)
        await interaction.followup.send(scheduled_text(checked.drama, party, checked.time_note, notes), ephemeral=True)

    @schedule.autocomplete("where")
    async def where_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
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
    @app_commands.command(name="edit", description="Change a watch party (moderators; hosts: their own).")
    @app_commands.describe(
        id="The watch party (start typing)",
        episodes="New episodes, like 5 or 5-6",
        start="New time: tomorrow 9pm, sat 21:00, in 2 hours, 2027-01-07 20:00",
        timezone="Time zone of `start` (default: the one the party was set in)",
        where="New voice/stage channel or external place",
        reminders="New reminders, like 1d,1h,10m or none",
        note="New note",
    )
    @host_or_moderator()
    @app_commands.autocomplete(timezone=timezone_choices)
    async def edit(
        self,
        interaction: Interaction,
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
        changes = PartyChanges(
            episodes=episodes, start=start, timezone=timezone, where=where, reminders=reminders, note=note
        )
        host = _host(interaction)
        checked = await self.bot.watchparties.check_edit(guild, id, changes, host=host)  # answered before the defer
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert checked.before is not None
        notes = await self.bot.watchparties.edit(guild, checked.before, checked.party)
        await interaction.followup.send(changed_text(checked.party, checked.time_note, notes), ephemeral=True)

    @app_commands.command(name="cancel", description="Cancel a watch party (moderators; hosts: their own).")
    @app_commands.describe(id="The watch party (start typing)")
    @host_or_moderator()
    async def cancel(self, interaction: Interaction, id: int) -> None:
        guild = interaction.guild
        assert guild is not None
        found = await self.bot.watchparties.check_cancel(guild, id, host=_host(interaction))
        if found is None:
            await interaction.response.send_message(f"Watch party #{id} was already cancelled.", ephemeral=True)
            return
        party, drama, going = found
        text, view = cancel_prompt(drama, party, going)  # asks first; the button does it
        await interaction.response.send_message(text, view=view, ephemeral=True)

    @edit.autocomplete("id")
    @cancel.autocomplete("id")
    async def party_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        choices = await self.bot.watchparties.choices(interaction.guild_id, current)
        return [app_commands.Choice(name=label, value=party_id) for label, party_id in choices]

    # -- everyone -------------------------------------------------------------------------------
    @app_commands.command(name="list", description="Upcoming watch parties, with RSVP counts.")
    async def list_(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        listing = await self.bot.watchparties.listing(interaction.guild_id)
        if not listing:
            await interaction.response.send_message("No watch party is scheduled.", ephemeral=True)
            return
        await interaction.response.send_message(embed=listing_embed(listing), ephemeral=True)

    @app_commands.command(name="calendar", description="Upcoming watch parties as a calendar file (.ics).")
    async def calendar_(self, interaction: Interaction) -> None:
        guild = interaction.guild
        assert guild is not None
        data, count = await self.bot.watchparties.calendar(guild)
        text = (
            f"{count} upcoming watch part{'y' if count == 1 else 'ies'} of {quote(guild.name, 60)}: "
            "open the file to add them to your calendar."
        )
        await interaction.response.send_message(
            text, file=discord.File(io.BytesIO(data), filename="watch-parties.ics"), ephemeral=True
        )


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(WatchParty(bot))
