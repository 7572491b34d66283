"""bot.checks: who counts as a moderator."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest

from bot.checks import MODERATOR_DEFAULT_PERMISSIONS, check_moderator, is_moderator
from bot.errors import GuildOnly, NotModerator
from bot.server_settings import ServerSettings
from bot.storage.guild_settings import GuildSettings

GUILD_ID = 111111111111111111
MOD_ROLE = 900000000000000001
OTHER_ROLE = 900000000000000002

PLAIN = discord.Permissions(send_messages=True, read_message_history=True, manage_messages=True)


def test_plain_member_is_refused() -> None:
    assert is_moderator(PLAIN, [], None) is False
    assert is_moderator(PLAIN, [OTHER_ROLE], None) is False
    assert is_moderator(discord.Permissions.none(), [], MOD_ROLE) is False


def test_manage_server_is_allowed() -> None:
    assert is_moderator(discord.Permissions(manage_guild=True), [], None) is True


def test_administrator_is_allowed() -> None:
    assert is_moderator(discord.Permissions(administrator=True), [], MOD_ROLE) is True


def test_configured_mod_role_is_allowed() -> None:
    assert is_moderator(PLAIN, [OTHER_ROLE, MOD_ROLE], MOD_ROLE) is True
    assert is_moderator(PLAIN, iter([MOD_ROLE]), MOD_ROLE) is True  # any iterable of ids


def test_a_role_that_is_not_the_mod_role_is_refused() -> None:
    assert is_moderator(PLAIN, [OTHER_ROLE], MOD_ROLE) is False


def test_moderator_commands_are_hidden_behind_manage_server_by_default() -> None:
    assert MODERATOR_DEFAULT_PERMISSIONS == discord.Permissions(manage_guild=True)


# -- check_moderator, with a stub interaction ------------------------------------------------------------
def interaction(*, permissions: discord.Permissions, role_ids: list[int], in_guild: bool = True) -> Any:
    if in_guild:
        user = MagicMock(spec=discord.Member)
        user.roles = [SimpleNamespace(id=r) for r in role_ids]
    else:
        user = MagicMock(spec=discord.User)

    async def get(guild_id: int) -> GuildSettings:
        return GuildSettings(guild_id=guild_id, mod_role_id=MOD_ROLE)

    server_settings = ServerSettings.__new__(ServerSettings)  # the real check, over stub storage
    server_settings._repo = SimpleNamespace(get=get)  # type: ignore[assignment]
    return SimpleNamespace(
        guild_id=GUILD_ID if in_guild else None,
        user=user,
        permissions=permissions,
        client=SimpleNamespace(server_settings=server_settings),
    )


async def test_check_moderator_allows_the_mod_role_and_refuses_others() -> None:
    assert await check_moderator(interaction(permissions=PLAIN, role_ids=[MOD_ROLE])) is True
    assert await check_moderator(interaction(permissions=discord.Permissions(manage_guild=True), role_ids=[])) is True
    with pytest.raises(NotModerator):
        await check_moderator(interaction(permissions=PLAIN, role_ids=[OTHER_ROLE]))


async def test_check_moderator_in_direct_messages_says_guild_only() -> None:
    with pytest.raises(GuildOnly):
        await check_moderator(interaction(permissions=PLAIN, role_ids=[], in_guild=False))
