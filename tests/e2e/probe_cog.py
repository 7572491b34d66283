"""A test-only extension that exercises the sandbox's protocol paths the shipped cogs do not yet
use: a modal, a deferred reply with a follow-up, a REST write (thread), and a crash.

It is loaded only by the end-to-end tests (see tests/e2e/conftest.py), never by the bot.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.text import quote
from bot.ui.views import BaseModal


class ProbeModal(BaseModal, title="Probe recap"):
    headline = discord.ui.TextInput(label="Title", max_length=100)
    body = discord.ui.TextInput(label="Text", style=discord.TextStyle.paragraph, max_length=4000, required=False)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(
            f"Received {quote(self.headline.value)} ({len(self.body.value)} characters)", ephemeral=True
        )


class Probe(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.scheduler.register("probe.remind", self.remind)  # type: ignore[attr-defined]

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister("probe.remind")  # type: ignore[attr-defined]

    async def remind(self, job: Any) -> None:
        channel = self.bot.get_channel(job.payload["channel_id"])
        assert isinstance(channel, discord.TextChannel)
        await channel.send(f"Reminder {job.payload['n']} (due {job.due_at:%H:%M})")

    @app_commands.command(name="probe-remind", description="Post in this channel after some minutes (test only).")
    async def probe_remind(self, interaction: discord.Interaction[Any], minutes: int, n: int = 1) -> None:
        due = self.bot.clock.now() + timedelta(minutes=minutes)  # type: ignore[attr-defined]
        await self.bot.scheduler.schedule(  # type: ignore[attr-defined]
            "probe.remind", {"channel_id": interaction.channel_id, "n": n}, due
        )
        await interaction.response.send_message(f"Reminder {n} scheduled", ephemeral=True)

    @app_commands.command(name="probe-modal", description="Open a modal (test only).")
    async def probe_modal(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(ProbeModal())

    @app_commands.command(name="probe-thread", description="Open a thread here (test only).")
    async def probe_thread(self, interaction: discord.Interaction[Any]) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        thread = await interaction.channel.create_thread(name="probe", type=discord.ChannelType.public_thread)
        await interaction.response.send_message(f"Opened {thread.mention}")

    @app_commands.command(name="probe-defer", description="Defer, then follow up (test only).")
    async def probe_defer(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done after thinking")
        await interaction.followup.send("a second, private note", ephemeral=True)

    @app_commands.command(name="probe-crash", description="Raise an unexpected error (test only).")
    async def probe_crash(self, interaction: discord.Interaction[Any]) -> None:
        raise RuntimeError("probe crash")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Probe(bot))
