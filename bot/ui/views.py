"""Base classes for modals and persistent (dynamic) components that report errors centrally."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserError
from bot.ui.limits import custom_id

if TYPE_CHECKING:
    from bot.client import Dramawatch, Interaction


async def _report(interaction: discord.Interaction[Any], error: BaseException, where: str) -> None:
    client: Dramawatch = interaction.client
    await client.report_error(interaction, error, where=where)


NOT_YOUR_FORM = "This form was opened by someone else. Open your own with the command or button."


class BaseModal(discord.ui.Modal):
    """A modal whose custom_id is unique to this opening: `dw:KIND:RANDOM`.

    discord.py keeps open modals by custom_id alone (`ViewStore._modals[custom_id]`, not per user),
    so two members with the same form open would replace each other's (the second submission is
    dropped: "This interaction failed"), and a predictable id could be submitted by anyone. Its
    state lives in the object, never in the id. With `owner_id`, only that user's submission is
    accepted; anything a submission decides must still re-check permissions in its service.
    """

    def __init__(self, kind: str | None = None, *, owner_id: int | None = None, timeout: float | None = None) -> None:
        kind = kind or type(self).__name__.lower()
        super().__init__(custom_id=custom_id(f"dw:{kind[:40]}:{secrets.token_urlsafe(16)}"), timeout=timeout)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if self.owner_id is not None and interaction.user.id != self.owner_id:
            # Refused without closing: the form stays open for the member who opened it.
            await _report(interaction, UserError(NOT_YOUR_FORM), f"modal {type(self).__name__}")
            return False
        return True

    # discord.py's Modal.on_error drops BaseView's `item` argument; mypy checks it against BaseView's.
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        self.stop()  # Discord closed the form with the reply; don't keep it in the store
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
