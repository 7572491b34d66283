"""Base classes for modals and persistent (dynamic) components that report errors centrally."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.client import Dramawatch, Interaction


async def _report(interaction: discord.Interaction[Any], error: BaseException, where: str) -> None:
    client: Dramawatch = interaction.client
    await client.report_error(interaction, error, where=where)


class BaseModal(discord.ui.Modal):
    # discord.py's Modal.on_error drops BaseView's `item` argument; mypy checks it against BaseView's.
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await _report(interaction, error, f"modal {type(self).__name__}")


class ReportingItem:
    """Mix into a ``discord.ui.DynamicItem`` (a component whose state lives in its ``custom_id``,
    so it works after a restart) and implement ``run``.

    discord.py only logs errors raised by a dynamic item's callback; this routes them to the
    central handler instead. Use: ``class B(ReportingItem, DynamicItem[Button], template=...)``.
    Every such class is listed in ``bot.ui.persistent.PERSISTENT_ITEMS``, which the bot registers.
    """

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.run(interaction)
        except Exception as error:
            await _report(interaction, error, f"button {type(self).__name__}")

    async def run(self, interaction: Interaction) -> None:
        raise NotImplementedError
