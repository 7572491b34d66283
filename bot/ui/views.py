"""Base classes for views, modals and persistent (dynamic) buttons that report errors centrally."""

from __future__ import annotations

from typing import Any

import discord


async def _report(interaction: discord.Interaction[Any], error: BaseException, where: str) -> None:
    report = getattr(interaction.client, "report_error", None)
    if report is not None:
        await report(interaction, error, where=where)


class BaseView(discord.ui.View):
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, item: Any, /) -> None:
        await _report(interaction, error, f"view {type(self).__name__}")


class BaseModal(discord.ui.Modal):
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:
        await _report(interaction, error, f"modal {type(self).__name__}")


class ReportingItem:
    """Mix into a ``discord.ui.DynamicItem`` (a component whose state lives in its ``custom_id``,
    so it works after a restart) and implement ``run``.

    discord.py only logs errors raised by a dynamic item's callback; this routes them to the
    central handler instead. Use: ``class B(ReportingItem, DynamicItem[Button], template=...)``.
    """

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.run(interaction)
        except Exception as error:
            await _report(interaction, error, f"button {type(self).__name__}")

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError
