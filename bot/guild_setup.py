"""Setting a server up: the `/setup` flow, the permission check, the welcome, and the log of every
settings change in the moderators' channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import discord

from bot.core import Core, CoreService
from bot.permissions import INVITE_PERMISSIONS, missing_for
from bot.storage.guild_settings import CHANNEL_KINDS, GuildSettings

log = logging.getLogger(__name__)

# Discord's locales → the time zone most of such a server's members live in (a suggestion only).
LOCALE_ZONES = {
    "ko": "Asia/Seoul",
    "ja": "Asia/Tokyo",
    "zh-TW": "Asia/Taipei",
    "zh-CN": "Asia/Shanghai",
    "th": "Asia/Bangkok",
    "vi": "Asia/Ho_Chi_Minh",
    "id": "Asia/Jakarta",
    "es-419": "America/Mexico_City",
    "es-ES": "Europe/Madrid",
    "pt-BR": "America/Sao_Paulo",
    "en-GB": "Europe/London",
    "en-US": "America/New_York",
    "fr": "Europe/Paris",
    "de": "Europe/Berlin",
    "tr": "Europe/Istanbul",
    "hi": "Asia/Kolkata",
}
# Zones K-drama fan servers most often run in, offered after the suggestion.
COMMON_ZONES = (
    "Asia/Seoul",
    "Asia/Manila",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "UTC",
)

GUILD_WIDE = (("create_events", "Create Events"), ("manage_threads", "Manage Threads"))


@dataclass(frozen=True)
class ChannelCheck:
    kind: str
    channel_id: int | None  # None: not set
    missing: list[str]  # permission labels the bot lacks there


@dataclass(frozen=True)
class Report:
    channels: list[ChannelCheck]
    guild_missing: list[str]  # server-wide permissions of the invite the bot's roles lack

    @property
    def ok(self) -> bool:
        return all(c.channel_id and not c.missing for c in self.channels) and not self.guild_missing


def suggested_zone(guild: discord.Guild) -> str:
    locale = str(guild.preferred_locale.value if hasattr(guild.preferred_locale, "value") else guild.preferred_locale)
    return LOCALE_ZONES.get(locale) or LOCALE_ZONES.get(locale.split("-")[0], "UTC")


def zone_choices(guild: discord.Guild, current: str) -> list[str]:
    first = suggested_zone(guild)
    return list(dict.fromkeys([first, current, *COMMON_ZONES]))[:25]


class GuildSetup(CoreService):
    def __init__(self, core: Core) -> None:
        super().__init__(core)

    async def check(self, guild: discord.Guild) -> Report:
        """What the bot can and can't do with this server's settings, channel by channel."""
        settings = await self._settings.get(guild.id)
        me = guild.me
        checks = []
        for kind in CHANNEL_KINDS:
            channel_id = settings.channel_id(kind)
            channel = guild.get_channel(channel_id) if channel_id else None
            if channel is None or me is None:
                checks.append(ChannelCheck(kind, None if channel is None else channel_id, []))
                continue
            checks.append(ChannelCheck(kind, channel.id, missing_for(kind, channel.permissions_for(me))))
        have = me.guild_permissions if me is not None else discord.Permissions.none()
        guild_missing = (
            []
            if have.administrator
            else [label for attr, label in GUILD_WIDE if getattr(INVITE_PERMISSIONS, attr) and not getattr(have, attr)]
        )
        return Report(checks, guild_missing)

    async def change(self, guild: discord.Guild, who: discord.abc.User, what: str, **changes: Any) -> GuildSettings:
        """Change settings and say so in the moderators' channel (who changed what), so every
        moderator sees it, not only the one who did it."""
        settings = await self._settings.update(guild.id, **changes)
        channel = guild.get_channel(settings.mods_channel_id) if settings.mods_channel_id else None
        if isinstance(channel, discord.TextChannel):
            try:
                await channel.send(f"⚙️ {who.mention} changed the settings: {what}")
            except discord.HTTPException as exc:
                log.warning("guild %s: could not log a settings change: %s", guild.id, exc)
        return settings

    async def set_channel(
        self,
        guild: discord.Guild,
        who: discord.abc.User,
        kind: str,
        channel: discord.TextChannel | discord.ForumChannel,
    ) -> list[str]:
        """Use `channel` for `kind` (logged); returns the permissions the bot still lacks there."""
        await self.change(
            guild, who, f"the **{kind}** channel is now {channel.mention}", **{f"{kind}_channel_id": channel.id}
        )
        me = guild.me
        return missing_for(kind, channel.permissions_for(me)) if me is not None else []

    async def welcome(self, guild: discord.Guild) -> bool:
        """A short hello when the bot joins: to the system channel, if it may post there."""
        channel = guild.system_channel
        me = guild.me
        if channel is None or me is None or not channel.permissions_for(me).send_messages:
            return False
        try:
            await channel.send(
                "👋 Thanks for adding **Dramawatch**: episode recaps, cast lookups, spoiler-safe episode "
                "threads and watch parties. A moderator can run `/setup` to choose the channels, roles and "
                "time zone in one go; `/help` lists every command."
            )
        except discord.HTTPException as exc:
            log.info("guild %s: no welcome (%s)", guild.id, exc)
            return False
        return True
