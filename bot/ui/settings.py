"""The /settings show card."""

from __future__ import annotations

import discord

from bot.storage.guild_settings import CHANNEL_KINDS, GuildSettings
from bot.text import duration, quote
from bot.ui import limits
from bot.ui.help import COLOUR

CHANNEL_PURPOSE = {
    "recaps": "new recaps from feeds",
    "discussions": "episode discussion threads",
    "announcements": "watch party announcements and reminders",
    "mods": "warnings for moderators",
}


def settings_embed(settings: GuildSettings, guild_name: str) -> discord.Embed:
    defaults = GuildSettings(guild_id=settings.guild_id)
    embed = discord.Embed(title=f"Dramawatch settings — {quote(guild_name, 100)}", colour=COLOUR)
    tz = f"`{settings.timezone}`" + (" (default)" if settings.timezone == defaults.timezone else "")
    embed.add_field(name="Time zone", value=tz, inline=True)
    role = f"<@&{settings.mod_role_id}>" if settings.mod_role_id else "not set (Manage Server only)"
    embed.add_field(name="Moderator role", value=role, inline=True)
    lines = []
    for kind in CHANNEL_KINDS:
        channel_id = settings.channel_id(kind)
        where = f"<#{channel_id}>" if channel_id else "not set"
        lines.append(f"**{kind}** ({CHANNEL_PURPOSE[kind]}): {where}")
    embed.add_field(name="Channels", value="\n".join(lines), inline=False)
    who = "members and moderators" if settings.members_open_threads else "moderators only"
    embed.add_field(
        name="Episode threads",
        value=f"archive after {duration(settings.thread_archive_minutes)}; opened with /discuss by {who}",
        inline=False,
    )
    embed.add_field(name="Watch party reminders", value=limits.md(settings.reminders) or "none", inline=True)
    embed.add_field(name="Feed checks", value=f"every {settings.feed_interval_minutes} min", inline=True)
    embed.set_footer(text="Change with /settings channel, modrole, timezone, threads, reminders or feeds.")
    return limits.finish(embed)
