"""bot.guild_setup: the welcome, and the time zone suggested from a server's language."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord

from bot.guild_setup import GuildSetup, suggested_zone, zone_choices


def guild(locale: str, *, may_post: bool = True, system: bool = True) -> Any:
    channel = MagicMock(spec=discord.TextChannel)
    channel.permissions_for.return_value = discord.Permissions(send_messages=may_post)
    channel.send = AsyncMock()
    return SimpleNamespace(
        id=1, preferred_locale=discord.Locale(locale), system_channel=channel if system else None, me=object()
    )


def test_the_zone_is_suggested_from_the_servers_language() -> None:
    assert suggested_zone(guild("ko")) == "Asia/Seoul"
    assert suggested_zone(guild("es-419")) == "America/Mexico_City"
    assert suggested_zone(guild("pt-BR")) == "America/Sao_Paulo"
    assert suggested_zone(guild("fi")) == "UTC"  # no guess: UTC, and the list offers the common ones
    choices = zone_choices(guild("id"), "Europe/London")
    assert choices[0] == "Asia/Jakarta" and "Europe/London" in choices and len(choices) == len(set(choices)) <= 25


async def test_the_welcome_goes_to_the_system_channel_only_where_the_bot_may_post() -> None:
    service = GuildSetup.__new__(GuildSetup)
    hello = guild("ko")
    assert await service.welcome(hello) is True
    text = hello.system_channel.send.await_args.args[0]
    assert "/setup" in text and "/help" in text and "@everyone" not in text
    mute = guild("ko", may_post=False)
    assert await service.welcome(mute) is False
    mute.system_channel.send.assert_not_awaited()
    assert await service.welcome(guild("ko", system=False)) is False
