"""/settings show|channel|modrole|timezone — moderators."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import timezones
from bot.checks import MODERATOR_DEFAULT_PERMISSIONS, moderator_only
from bot.client import Dramawatch, Interaction
from bot.errors import InvalidInput
from bot.text import duration
from bot.timeparse import format_offsets, parse_reminders
from bot.ui.help import HelpSection
from bot.ui.settings import settings_embed
from bot.ui.setup import report_embed
from cogs._autocomplete import timezone_choices

ChannelKind = Literal["recaps", "discussions", "announcements", "mods"]


@app_commands.guild_only()
@app_commands.default_permissions(MODERATOR_DEFAULT_PERMISSIONS)
class Settings(commands.GroupCog, group_name="settings", group_description="Server settings (moderators)."):
    help_section = HelpSection("Server settings", 70)

    def __init__(self, bot: Dramawatch) -> None:
        self.bot = bot

    @app_commands.command(name="show", description="Show this server's Dramawatch settings.")
    @moderator_only()
    async def show(self, interaction: Interaction) -> None:
        assert interaction.guild is not None
        settings = await self.bot.server_settings.get(interaction.guild.id)
        await interaction.response.send_message(embed=settings_embed(settings, interaction.guild.name), ephemeral=True)

    @app_commands.command(name="channel", description="Choose the channel Dramawatch uses for one purpose.")
    @app_commands.describe(
        kind="What the channel is for: recaps, discussions (threads), announcements or mods",
        channel="A text channel (or, for discussions, a forum channel)",
    )
    @moderator_only()
    async def channel(
        self,
        interaction: Interaction,
        kind: ChannelKind,
        channel: discord.TextChannel | discord.ForumChannel,
    ) -> None:
        assert interaction.guild is not None
        if isinstance(channel, discord.ForumChannel) and kind != "discussions":
            raise InvalidInput(
                f"`channel`: {channel.mention} is a forum channel; only `discussions` can use a forum. "
                f"Pick a text channel for `{kind}`."
            )
        missing = await self.bot.guild_setup.set_channel(interaction.guild, interaction.user, kind, channel)
        text = f"The **{kind}** channel is now {channel.mention}."
        if missing:
            text += f"\n⚠️ I still need **{', '.join(missing)}** in {channel.mention} for this to work."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="modrole", description="Set (or clear) the role whose members count as moderators.")
    @app_commands.describe(role="The moderator role; leave empty to clear (then only Manage Server counts)")
    @moderator_only()
    async def modrole(self, interaction: Interaction, role: discord.Role | None = None) -> None:
        assert interaction.guild is not None
        if role is not None and role.is_default():
            raise InvalidInput("`role`: @everyone cannot be the moderator role; pick a role only moderators have.")
        what = f"the moderator role is now {role.mention}" if role else "the moderator role is cleared"
        await self.bot.guild_setup.change(
            interaction.guild, interaction.user, what, mod_role_id=role.id if role else None
        )
        if role is None:
            text = "Moderator role cleared: only members with **Manage Server** can use moderator commands."
        else:
            text = (
                f"Members with {role.mention} can now use moderator commands. To show the commands to them in "
                "Discord's menu, allow the role under Server Settings → Integrations → Dramawatch."
            )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="hostrole", description="Set (or clear) the role that may host watch parties.")
    @app_commands.describe(role="Members with it may schedule and manage their own watch parties; empty clears it")
    @moderator_only()
    async def hostrole(self, interaction: Interaction, role: discord.Role | None = None) -> None:
        assert interaction.guild is not None
        if role is not None and role.is_default():
            raise InvalidInput("`role`: @everyone cannot be the host role; pick a role for your watch party hosts.")
        what = f"the watch party host role is now {role.mention}" if role else "the watch party host role is cleared"
        await self.bot.guild_setup.change(
            interaction.guild, interaction.user, what, host_role_id=role.id if role else None
        )
        text = (
            f"Members with {role.mention} can now schedule watch parties and manage their own."
            if role
            else "Host role cleared: only moderators schedule watch parties."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="check", description="Check Dramawatch's permissions in every channel it uses.")
    @moderator_only()
    async def check(self, interaction: Interaction) -> None:
        assert interaction.guild is not None
        report = await self.bot.guild_setup.check(interaction.guild)
        await interaction.response.send_message(embed=report_embed(report), ephemeral=True)

    @app_commands.command(name="threads", description="How episode threads behave on this server.")
    @app_commands.describe(
        archive="Hide a thread after this long without messages",
        members_can_open="Whether members (not only moderators) may open an aired episode's thread with /discuss",
    )
    @app_commands.choices(
        archive=[
            app_commands.Choice(name="1 hour", value=60),
            app_commands.Choice(name="24 hours", value=1440),
            app_commands.Choice(name="3 days", value=4320),
            app_commands.Choice(name="1 week", value=10080),
        ]
    )
    @moderator_only()
    async def threads(
        self,
        interaction: Interaction,
        archive: app_commands.Choice[int] | None = None,
        members_can_open: bool | None = None,
    ) -> None:
        assert interaction.guild is not None
        changes: dict[str, Any] = {}
        if archive is not None:
            changes["thread_archive_minutes"] = archive.value
        if members_can_open is not None:
            changes["members_open_threads"] = members_can_open
        settings = await self.bot.guild_setup.change(
            interaction.guild, interaction.user, "episode thread options", **changes
        )
        after = duration(settings.thread_archive_minutes)
        who = "members and moderators" if settings.members_open_threads else "moderators only"
        await interaction.response.send_message(
            f"Episode threads archive after {after} without messages; aired episodes' threads can be opened "
            f"with `/discuss` by {who}.",
            ephemeral=True,
        )

    @app_commands.command(name="reminders", description="Default watch party reminders, like 1d,1h,10m.")
    @app_commands.describe(value="Offsets before the start, like 1d,1h,10m (m, h, d, w), or none")
    @moderator_only()
    async def reminders(self, interaction: Interaction, value: app_commands.Range[str, 1, 60]) -> None:
        assert interaction.guild is not None
        offsets = parse_reminders(value, "value")
        await self.bot.guild_setup.change(
            interaction.guild,
            interaction.user,
            f"default reminders are now {format_offsets(offsets)}",
            reminders=format_offsets(offsets),
        )
        when = f"{format_offsets(offsets)} before the start" if offsets else "never (no reminders)"
        await interaction.response.send_message(
            f"New watch parties remind those going: {when}. A party can set its own.",
            ephemeral=True,
        )

    @app_commands.command(name="feeds", description="How often this server's recap feeds are checked.")
    @app_commands.describe(interval="Minutes between checks of each feed (5 to 1440)")
    @moderator_only()
    async def feeds(self, interaction: Interaction, interval: app_commands.Range[int, 5, 1440]) -> None:
        assert interaction.guild is not None
        await self.bot.guild_setup.change(
            interaction.guild,
            interaction.user,
            f"feeds are checked every {interval} minutes",
            feed_interval_minutes=interval,
        )
        await interaction.response.send_message(
            f"Feeds are checked every {interval} minutes from their next check on.", ephemeral=True
        )

    @app_commands.command(name="timezone", description="Set the server's time zone (IANA name, e.g. Asia/Seoul).")
    @app_commands.describe(name="An IANA time zone name such as Asia/Seoul or Europe/London")
    @moderator_only()
    @app_commands.autocomplete(name=timezone_choices)
    async def timezone(self, interaction: Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        assert interaction.guild is not None
        zone = timezones.resolve(name)
        await self.bot.guild_setup.change(
            interaction.guild, interaction.user, f"the time zone is now `{zone}`", timezone=zone
        )
        await interaction.response.send_message(
            f"Time zone set to `{zone}`. Times you enter (watch parties) are read in this zone.",
            ephemeral=True,
        )


async def setup(bot: Dramawatch) -> None:
    await bot.add_cog(Settings(bot))
